"""The sender as a loop: in a thread of each server worker (:func:`start_sending`, which
``newsroom.wsgi`` calls), or in a command of its own (``newsroom mail send --loop``)."""

from __future__ import annotations

import logging
import os
import threading
from typing import TYPE_CHECKING

from .. import metrics
from .sender import MailNotConfigured, Sender

if TYPE_CHECKING:
    from flask import Flask

log = logging.getLogger("flask_bastion.mail")


class MailWorker:
    """Runs :meth:`Sender.run_once` until stopped: at once again while there is more to send,
    else every ``interval`` seconds.

    :meth:`run` loops in the calling thread (a command); :meth:`start` runs it in a thread of
    its own. :meth:`stop` lets the message being sent finish, then ends the loop.
    """

    def __init__(self, sender: Sender, *, interval: float) -> None:
        self.sender = sender
        self.interval = interval
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def run(self) -> None:
        """Loop until :meth:`stop`; an error (the database or the server away) is logged, and
        the next pass tries again after the interval."""
        while not self._stopping.is_set():
            try:
                result = self.sender.run_once(self._stopping)
                # A sender's numbers reach a scrape only through the shared multiprocess
                # directory (`serve --metrics-port`): without it, skip the count query.
                if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
                    metrics.set_outbox_depth(self.sender.depth())
            except Exception:  # the loop outlives any one failure: log it, try again later
                log.exception("mail sender pass failed")
                result = None
            more = (
                result is not None
                and result.claimed == self.sender.batch
                and not (result.retrying or result.failed)
            )
            if not more:
                self._stopping.wait(self.interval)

    def start(self) -> MailWorker:
        """Run the loop in a thread of its own (``bastion-mail``) until :meth:`stop` or the end
        of the process; returns self.

        When the main thread finishes (a server's worker stopping), the loop is asked to stop,
        and the interpreter waits for the thread, which is not a daemon: the message being sent
        is finished, never cut off between the server's acceptance and our record of it.
        """
        self._thread = threading.Thread(target=self.run, name="bastion-mail")
        self._thread.start()
        watcher = threading.Thread(target=self._stop_after_main, name="bastion-mail-stop")
        watcher.daemon = True
        watcher.start()
        return self

    def _stop_after_main(self) -> None:
        threading.main_thread().join()  # returns once the interpreter begins to shut down
        self._stopping.set()

    def stop(self, timeout: float | None = None) -> None:
        """Ask the loop to end after the current message, and wait for its thread."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)


def start_sending(app: Flask) -> MailWorker | None:
    """Send ``app``'s outbox from this process, in a thread (see :meth:`MailWorker.start`).

    For each process of a server: several senders share one outbox safely (each claims its
    own rows). None, and nothing started, when the app has no ``BASTION_MAIL_URL``.
    """
    state = app.extensions["bastion"]
    try:
        sender = Sender.for_settings(state.db, state.settings)
    except MailNotConfigured:
        return None
    log.info("mail sender: sending through %s", sender.server.describe())
    return MailWorker(sender, interval=state.settings.mail_poll_interval).start()
