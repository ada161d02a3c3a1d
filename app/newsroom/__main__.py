"""``python -m newsroom``: the ``newsroom`` command (how ``serve`` starts its mail sender)."""

from .cli import main

main(prog_name="newsroom")
