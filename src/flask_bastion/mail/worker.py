"""The sender as a loop: ``newsroom serve`` runs one per instance, ``mail send --loop`` too."""

from __future__ import annotations

import logging
import os
import threading

from .. import metrics
from .sender import Sender

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
        self._parent: int | None = None

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    def run(self) -> None:
        """Loop until :meth:`stop`; an error (the database or the server away) is logged, and
        the next pass tries again after the interval."""
        while not self._stopping.is_set():
            if self._parent is not None and os.getppid() != self._parent:
                log.warning("mail sender: the process that started it is gone; stopping")
                return
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

    def watch_parent(self, pid: int) -> None:
        """End the loop when process ``pid`` (which started this one) is gone: a sender must
        not outlive the server it was started for, even when that server was killed."""
        self._parent = pid

    def start(self) -> MailWorker:
        """Run the loop in a daemon thread (``bastion-mail``); returns self."""
        self._thread = threading.Thread(target=self.run, name="bastion-mail", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float | None = None) -> None:
        """Ask the loop to end after the current message, and wait for its thread."""
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)
