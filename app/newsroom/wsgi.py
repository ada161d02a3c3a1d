"""WSGI entry point for production servers: ``newsroom.wsgi:app``.

Each process that loads it (each Granian worker) prunes dead sessions and tokens in a thread
every ``PRUNE_INTERVAL`` seconds (docs/operations.md).
"""

from flask_bastion import prune

from . import create_app

app = create_app()
prune.start_periodic(app)
