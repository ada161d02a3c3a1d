"""``newsroom mail``: deliver the outbox (``send``, once or ``--loop``); report on it (``status``).

``newsroom serve`` starts ``mail send --loop`` as a child process of its own, one per instance
(see :func:`sender_process`): Granian forks its workers from the serving process, and a thread
there holding database connections would hand copies of them to every worker it forks.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from types import FrameType

import click
from flask.cli import with_appcontext

from flask_bastion import current_bastion
from flask_bastion.mail import MailNotConfigured, MailWorker, Sender, outbox_status

# How long `serve` waits at shutdown for the sender to finish the message it is sending.
STOP_TIMEOUT = 30


@click.group()
def mail() -> None:
    """The mail outbox: deliver it, see what is waiting or failed."""


@mail.command("send")
@click.option("--loop", is_flag=True, help="Keep sending until stopped (SIGTERM or Ctrl-C).")
@click.option(
    "--with-parent",
    type=int,
    default=None,
    hidden=True,
    help="Stop when this process (newsroom serve) is gone.",
)
@with_appcontext
def send(loop: bool, with_parent: int | None) -> None:
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
    if with_parent is not None:
        worker.watch_parent(with_parent)
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


def sender_process() -> subprocess.Popen[bytes] | None:
    """Start ``newsroom mail send --loop`` for ``serve``; None when there is no MAIL_URL
    (development: mails stay in the outbox, for /dev/mail)."""
    if not current_bastion().settings.mail_url:
        click.echo(
            "mail: MAIL_URL is not set, so nothing is sent; queued mails are at /dev/mail",
            err=True,
        )
        return None
    command = [sys.executable, "-m", "newsroom", "mail", "send", "--loop"]
    # Our own interpreter and module, fixed arguments: no input of anyone's reaches the command.
    return subprocess.Popen([*command, "--with-parent", str(os.getpid())])  # noqa: S603


def stop_sender(process: subprocess.Popen[bytes] | None) -> None:
    """Ask the sender to finish its message and stop; kill it if it will not."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()  # its claims come back after their lease: nothing is lost
        process.wait()
