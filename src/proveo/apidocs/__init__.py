"""Swagger UI at /docs and ReDoc at /redoc, served from our own origin under our CSP."""
