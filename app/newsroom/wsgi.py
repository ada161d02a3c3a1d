"""WSGI entry point for production servers: ``newsroom.wsgi:app``."""

from . import create_app

app = create_app()
