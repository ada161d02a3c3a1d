"""``newsroom mail``: deliver the outbox (``send``, once or ``--loop``); report on it (``status``).

``newsroom serve`` needs neither: each of its workers sends the outbox from a thread
(:mod:`newsroom.wsgi`). ``send`` is for cron, ``send --loop`` for a sender of its own.
"""

from __future__ import annotations

import signal
from types import FrameType

import click
from flask.cli import with_appcontext

from flask_bastion import current_bastion
from flask_bastion.mail import MailNotConfigured, MailWorker, Sender, outbox_status


@click.group()
def mail() -> None:
    """The mail outbox: deliver it, see what is waiting or failed."""


@mail.command("send")
@click.option("--loop", is_flag=True, help="Keep sending until stopped (SIGTERM or Ctrl-C).")
@with_appcontext
def send(loop: bool) -> None:
    """Send the messages that are due: one pass, or --loop to keep at it."""
    state = current_bastion()
    try:
        sender = Sender.for_settings(state.db, state.settings)
    except MailNotConfigured as error:
        raise click.ClickException(f"{error} Set MAIL_URL (see docs/mail.md).") from None
    if not loop:
        total = sender.run_once()
        while total.claimed and total.claimed == sender.batch and not total.retrying:
            total = sender.run_once()  # more were due than one batch holds
        status = outbox_status(state.db.session)
        click.echo(
            f"sent through {sender.server.describe()}; outbox: "
            + ", ".join(f"{n} {name}" for name, n in status.counts.items())
        )
        return
    worker = MailWorker(sender, interval=state.settings.mail_poll_interval)

    def stop(_signum: int, _frame: FrameType | None) -> None:
        worker.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    click.echo(f"mail sender: sending through {sender.server.describe()}", err=True)
    worker.run()


@mail.command("status")
@click.option("--limit", type=click.IntRange(min=1), default=20, show_default=True)
@with_appcontext
def status(limit: int) -> None:
    """Count the outbox by status and show the failed messages with their last error."""
    report = outbox_status(current_bastion().db.session, failed_limit=limit)
    for name, count in report.counts.items():
        click.echo(f"{name:8} {count}")
    if report.failed:
        click.echo(f"\nfailed (newest first, at most {limit}):")
    for message in report.failed:
        click.echo(
            f"  #{message.id} {message.created_at.isoformat(timespec='seconds')} "
            f"{message.template} to {message.to_address} after {message.attempts} attempt(s): "
            f"{message.last_error}"
        )
