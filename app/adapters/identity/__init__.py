"""Talking to the token authority: discovery metadata, signing keys, JWT checks, introspection.

Import from the modules: ``jwks`` and ``jwt_verifier`` load the JOSE library, which only a gateway with
JWT authentication on needs (``algorithms`` holds what settings validation needs without it).
"""
