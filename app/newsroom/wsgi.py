"""WSGI entry point for production servers: ``newsroom.wsgi:app``.

Each process that loads it (each Granian worker) runs two threads beside its requests: one
prunes dead sessions and tokens every ``PRUNE_INTERVAL`` seconds (docs/operations.md), one
sends the mail outbox when ``MAIL_URL`` is set (docs/mail.md). Several workers, and several
instances, share one outbox: each sender claims its own rows.
"""

from flask_bastion import prune
from flask_bastion.mail import start_sending

from .factory import create_app

app = create_app()
prune.start_periodic(app)
start_sending(app)
