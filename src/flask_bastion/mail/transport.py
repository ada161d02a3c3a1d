"""Talking to the SMTP server (the standard library's ``smtplib``), and what its answers mean.

One :class:`SmtpTransport` holds at most one connection, opened on the first message of a pass
and reused for the rest. Every failure becomes a :class:`DeliveryError` that says whether
retrying can help (``permanent``) and whether it happened before any message could be offered
(``connection``: the server is down, refuses our TLS or our credentials), so the sender can
tell "this message is refused" from "nothing can be sent right now".
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import format_datetime

from ..models import OutboxMessage
from .url import MailServer

# Longest error text kept on a row: enough for any server's reply, bounded against a chatty one.
ERROR_LIMIT = 1000


class DeliveryError(Exception):
    """A message was not accepted. ``permanent``: retrying cannot help (the server said 5xx to
    it). ``connection``: no message could be offered at all (connect, TLS, AUTH failed)."""

    def __init__(self, reason: str, *, permanent: bool = False, connection: bool = False) -> None:
        super().__init__(reason[:ERROR_LIMIT])
        self.permanent = permanent
        self.connection = connection


def compose(message: OutboxMessage, sender: str) -> EmailMessage:
    """The outbox row as a MIME message: a text part and an HTML alternative."""
    mail = EmailMessage()
    try:
        mail["From"] = sender
        mail["To"] = message.to_address
        mail["Subject"] = message.subject
        mail["Date"] = format_datetime(message.created_at)
        mail["Message-ID"] = message.message_id
        # RFC 3834: a machine sent this; vacation responders and the like must not answer it.
        mail["Auto-Submitted"] = "auto-generated"
        mail.set_content(message.text_body)
        mail.add_alternative(message.html_body, subtype="html")
    except (ValueError, TypeError) as error:  # an address or header the email package refuses
        raise DeliveryError(f"cannot build the message: {error}", permanent=True) from None
    return mail


def _reply(code: int, text: bytes | str) -> str:
    said = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return f"{code} {said}".strip()


class SmtpTransport:
    """Delivers messages to one server; reconnects after a failure, verifies TLS certificates."""

    def __init__(self, server: MailServer, *, timeout: float, ca_file: str | None = None) -> None:
        self.server = server
        self.timeout = timeout
        self.ca_file = ca_file
        self._smtp: smtplib.SMTP | None = None

    def _tls_context(self) -> ssl.SSLContext:
        # The system's CAs (or the configured file), hostname checked: a network attacker who
        # answers for the SMTP server would otherwise read every reset link.
        return ssl.create_default_context(cafile=self.ca_file)

    def _connect(self) -> smtplib.SMTP:
        server = self.server
        try:
            smtp: smtplib.SMTP
            if server.security == "tls":
                smtp = smtplib.SMTP_SSL(
                    server.host, server.port, timeout=self.timeout, context=self._tls_context()
                )
            else:
                smtp = smtplib.SMTP(server.host, server.port, timeout=self.timeout)
            try:
                smtp.ehlo()
                if server.security == "starttls":
                    # Raises when the server does not offer STARTTLS: never a silent downgrade.
                    smtp.starttls(context=self._tls_context())
                    smtp.ehlo()
                if server.username:
                    smtp.login(server.username, server.password or "")
            except BaseException:
                smtp.close()
                raise
        except smtplib.SMTPResponseException as error:
            raise DeliveryError(
                f"{server.describe()}: {_reply(error.smtp_code, error.smtp_error)}",
                connection=True,
            ) from None
        except (smtplib.SMTPException, OSError) as error:  # refused, timed out, TLS failed
            raise DeliveryError(
                f"{server.describe()}: {type(error).__name__}: {error}", connection=True
            ) from None
        return smtp

    def send(self, mail: EmailMessage) -> None:
        """Send one message; :class:`DeliveryError` unless the server accepted it (DATA 250)."""
        if self._smtp is None:
            self._smtp = self._connect()
        try:
            refused = self._smtp.send_message(mail)
        except smtplib.SMTPRecipientsRefused as error:
            codes = [code for code, _ in error.recipients.values()]
            reasons = "; ".join(_reply(c, t) for c, t in error.recipients.values())
            raise DeliveryError(
                f"recipient refused: {reasons}", permanent=all(c >= 500 for c in codes)
            ) from None
        except smtplib.SMTPSenderRefused as error:
            # About our MAIL_FROM, not this message: every message would fail alike, so it is
            # retried while someone fixes the setting, never given up on at once.
            self.close()
            raise DeliveryError(
                f"sender refused: {_reply(error.smtp_code, error.smtp_error)}"
            ) from None
        except smtplib.SMTPResponseException as error:  # DATA refused, or a 4xx anywhere
            permanent = 500 <= error.smtp_code < 600
            raise DeliveryError(
                f"refused: {_reply(error.smtp_code, error.smtp_error)}", permanent=permanent
            ) from None
        except (smtplib.SMTPException, OSError) as error:  # the connection broke mid-message
            self.close()
            raise DeliveryError(f"{type(error).__name__}: {error}") from None
        if refused:  # some recipients refused, others accepted: with one recipient, never
            raise DeliveryError(f"recipients refused: {refused}", permanent=True)

    def close(self) -> None:
        """Say QUIT (or just drop a connection that broke)."""
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (smtplib.SMTPException, OSError):
            smtp.close()
