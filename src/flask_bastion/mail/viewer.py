"""The library's mail templates, and ``/dev/mail``: the outbox as a page, in development only."""

from __future__ import annotations

from flask import Blueprint

# template_folder: the app finds bastion/mail/* here after its own folder, so an app overrides a
# mail by shipping the same path.
bp = Blueprint("bastion_mail", __name__, template_folder="../templates")
