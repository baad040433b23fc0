"""Domain services: what the gateway does, independent of HTTP."""
