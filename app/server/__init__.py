"""Composition: the core plugin, lifespan, dependency providers, error mapping and CLI commands."""
