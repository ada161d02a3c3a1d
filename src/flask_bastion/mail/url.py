"""``BASTION_MAIL_URL``: which SMTP server, how the connection is protected, and the refusals.

Three schemes, nothing else:

* ``smtp://host:port``: plain SMTP, no TLS and no credentials. Outside development only to a
  loopback host (a relay on the same machine, such as a local Postfix).
* ``smtp+starttls://user:pass@host:587``: plain connection upgraded with STARTTLS, which is
  required (a server that does not offer it is an error, never a silent downgrade).
* ``smtps://user:pass@host:465``: TLS from the first byte.

User and password are percent-decoded (``p%40ss`` is ``p@ss``). Certificates are always verified,
against the system's CAs or ``BASTION_MAIL_CA_FILE``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import unquote, urlsplit

from ..config import Settings
from ..security.origin import is_loopback

Security = Literal["plain", "starttls", "tls"]

SCHEMES: dict[str, tuple[Security, int]] = {
    "smtp": ("plain", 25),
    "smtp+starttls": ("starttls", 587),
    "smtps": ("tls", 465),
}


@dataclass(frozen=True)
class MailServer:
    """Where and how to deliver: the parsed ``BASTION_MAIL_URL``."""

    security: Security
    host: str
    port: int
    username: str | None = None
    password: str | None = field(default=None, repr=False)  # never in a log line or a traceback

    @property
    def loopback(self) -> bool:
        return is_loopback(self.host)

    def describe(self) -> str:
        """The server for a log line or a command's output: scheme, host and port, no secret."""
        scheme = {v[0]: k for k, v in SCHEMES.items()}[self.security]
        return f"{scheme}://{self.host}:{self.port}"


class InvalidMailUrl(ValueError):
    """A ``BASTION_MAIL_URL`` that is not one of the three forms; the message holds no secret."""


def parse_mail_url(url: str) -> MailServer:
    """Parse a mail URL; :class:`InvalidMailUrl` (never echoing the password) when it is not one."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
        host = parts.hostname
    except ValueError:
        raise InvalidMailUrl(
            "BASTION_MAIL_URL is not a valid URL (is the port a number? are special "
            "characters in the password percent-encoded?)."
        ) from None
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise InvalidMailUrl(
            f"BASTION_MAIL_URL scheme {scheme!r} is not one of smtp://, smtp+starttls://, smtps://."
        )
    security, default_port = SCHEMES[scheme]
    if not host:
        raise InvalidMailUrl("BASTION_MAIL_URL has no host.")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise InvalidMailUrl("BASTION_MAIL_URL has a path or query; give only user, host and port.")
    username = unquote(parts.username) if parts.username else None
    password = unquote(parts.password) if parts.password is not None else None
    if security == "plain" and (username or password):
        # AUTH over a plain connection would send the password in the clear.
        raise InvalidMailUrl(
            "BASTION_MAIL_URL smtp:// carries credentials, which would travel unencrypted: "
            "use smtp+starttls:// or smtps://."
        )
    if password is not None and not username:
        raise InvalidMailUrl("BASTION_MAIL_URL has a password but no user name.")
    return MailServer(
        security=security,
        host=host,
        port=port or default_port,
        username=username,
        password=password,
    )


def mail_server(settings: Settings) -> MailServer | None:
    """The configured server, or None when ``BASTION_MAIL_URL`` is not set (development)."""
    return parse_mail_url(settings.mail_url) if settings.mail_url else None


def malformed_mail_url(mail_url: str | None) -> list[str]:
    """Refusals in any environment: a mail URL that does not parse is a typo, not a choice."""
    if not mail_url:
        return []
    try:
        parse_mail_url(mail_url)
    except InvalidMailUrl as error:
        return [str(error)]
    return []


def unsafe_mail_settings(settings: Settings) -> list[str]:
    """Refusals outside development: no server at all, or plain SMTP across a network."""
    if not settings.mail_url:
        # Bastion mails account links (confirmation, reset, codes): without a server they
        # would queue for ever while users wait for them.
        return [
            "BASTION_MAIL_URL (newsroom: MAIL_URL) is not set: give the SMTP server mail is "
            "sent through, e.g. smtp+starttls://user:password@smtp.example.com:587 or "
            "smtp://127.0.0.1:25 for a relay on this machine."
        ]
    try:
        server = parse_mail_url(settings.mail_url)
    except InvalidMailUrl:
        return []  # reported by malformed_mail_url
    if server.security == "plain" and not server.loopback:
        # Links in these mails sign people in or reset passwords: never across a network in clear.
        return [
            f"BASTION_MAIL_URL {server.describe()} is plain SMTP to another machine: use "
            "smtp+starttls:// or smtps:// (plain smtp:// is allowed only to a loopback host)."
        ]
    return []
