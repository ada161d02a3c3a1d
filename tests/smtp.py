"""A real SMTP server for tests (aiosmtpd), and helpers to read what it received.

Fixtures (registered for the whole suite from ``tests/conftest.py``):

``smtp_server``
    A plain SMTP server on a free loopback port, started for the test; ``.url`` is the
    ``BASTION_MAIL_URL`` (``MAIL_URL``) that reaches it and ``.messages`` what it accepted.
``tls_certificate``
    A throwaway self-signed certificate for 127.0.0.1 / localhost (``.cert``, ``.key``: paths).
``starttls_server``, ``smtps_server``
    The same server behind STARTTLS (port-587 style, AUTH required after TLS) and implicit TLS
    (port-465 style, AUTH required); their ``.url`` carries the credentials and the test must set
    ``BASTION_MAIL_CA_FILE`` to ``tls_certificate.cert``.

Delivering in a test: :func:`deliver_outbox` runs sender passes (as ``newsroom serve`` would)
until nothing is due, for an app whose ``BASTION_MAIL_URL`` is the server's ``.url``.

Reading mail: :func:`text_of`, :func:`html_of`, :func:`links_in` (every ``http(s)`` URL of the
text part, in order), :func:`code_in` (the 6-digit code on a line of its own in the text part).
The server can pretend to be broken: ``server.fail_with = "451 4.3.0 try later"`` answers
every DATA so; ``server.refuse["x@example.com"] = "550 5.1.1 no such user"`` refuses one
recipient. ``server.handler.answer_after = 2.0`` answers each message 2 s after it came in
(``server.handler.receiving`` is set when one does). ``server.stop()`` then ``server.start()``
is "down, then up" on the same port.
"""

from __future__ import annotations

import asyncio
import datetime
import email
import email.policy
import ipaddress
import re
import socket
import threading
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

SMTP_USER = "mailer"
SMTP_PASSWORD = "p@ss:w/rd%"  # characters that must be percent-encoded in a URL


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Capture:
    """aiosmtpd handler: keeps every accepted message, or answers as a broken server would."""

    messages: list[EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    fail_with: str | None = None
    refuse: dict[str, str] = field(default_factory=dict)
    logins: list[tuple[str, str]] = field(default_factory=list)
    arrived: threading.Condition = field(default_factory=threading.Condition)
    # A slow server: seconds between the end of a message's DATA and the answer to it.
    answer_after: float = 0.0
    receiving: threading.Event = field(default_factory=threading.Event)  # a DATA has come in

    async def handle_RCPT(  # noqa: N802  (aiosmtpd's hook name)
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(  # noqa: N802
        self, server: Any, session: Any, envelope: Any
    ) -> str:
        self.receiving.set()
        if self.answer_after:
            await asyncio.sleep(self.answer_after)
        if self.fail_with:
            return self.fail_with
        raw = envelope.original_content or envelope.content
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        with self.arrived:
            self.messages.append(message)
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            self.arrived.notify_all()
        return "250 OK"

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login, password = auth_data.login.decode(), auth_data.password.decode()
        self.logins.append((login, password))
        return AuthResult(success=(login, password) == (SMTP_USER, SMTP_PASSWORD))


class _Controller(Controller):
    def factory(self) -> Any:
        # With implicit TLS (smtps) the whole channel is TLS, so aiosmtpd's warning that AUTH is
        # required "without TLS" does not apply; it only knows of STARTTLS.
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Requiring AUTH while not requiring TLS")
            return super().factory()


class SmtpServer:
    """An aiosmtpd server on a fixed loopback port that can be stopped and started again."""

    def __init__(self, *, mode: str = "plain", certificate: Certificate | None = None) -> None:
        assert mode in ("plain", "starttls", "smtps")
        assert mode == "plain" or certificate is not None
        self.mode = mode
        self.certificate = certificate
        self.port = free_port()
        self.handler = Capture()
        self._controller: Controller | None = None

    @property
    def messages(self) -> list[EmailMessage]:
        return self.handler.messages

    @property
    def fail_with(self) -> str | None:
        return self.handler.fail_with

    @fail_with.setter
    def fail_with(self, reply: str | None) -> None:
        self.handler.fail_with = reply

    @property
    def refuse(self) -> dict[str, str]:
        return self.handler.refuse

    @property
    def url(self) -> str:
        """The mail URL that reaches this server (with credentials when it wants them)."""
        if self.mode == "plain":
            return f"smtp://127.0.0.1:{self.port}"
        scheme = "smtp+starttls" if self.mode == "starttls" else "smtps"
        user, password = quote(SMTP_USER, safe=""), quote(SMTP_PASSWORD, safe="")
        # "localhost": the name the throwaway certificate is issued to.
        return f"{scheme}://{user}:{password}@localhost:{self.port}"

    def start(self) -> None:
        options: dict[str, Any] = {}
        if self.mode != "plain":
            assert self.certificate is not None
            context = self.certificate.server_context()
            options = {"authenticator": self.handler.authenticate, "auth_required": True}
            if self.mode == "starttls":
                options |= {"tls_context": context, "require_starttls": True}
            else:  # implicit TLS: aiosmtpd hides AUTH unless told the channel is safe already
                options |= {"ssl_context": context, "auth_require_tls": False}
        # A stopped Controller cannot start again: each start is a new one on the same port.
        self._controller = _Controller(
            self.handler, hostname="127.0.0.1", port=self.port, **options
        )
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def wait_for(self, count: int, timeout: float = 10) -> list[EmailMessage]:
        """Wait until at least ``count`` messages have arrived; return them all."""
        deadline = time.monotonic() + timeout
        with self.handler.arrived:
            while len(self.messages) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"{len(self.messages)} of {count} messages arrived")
                self.handler.arrived.wait(left)
        return list(self.messages)


@dataclass(frozen=True)
class Certificate:
    cert: Path
    key: Path

    def server_context(self) -> Any:
        import ssl

        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.cert, self.key)
        return context


def make_certificate(directory: Path) -> Certificate:
    """A self-signed P-256 certificate for localhost and 127.0.0.1, valid for a day."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "smtp-cert.pem", directory / "smtp-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return Certificate(cert=cert_path, key=key_path)


# ---- reading mail -------------------------------------------------------------------------------

URL = re.compile(r"https?://[^\s<>\"')]+")
# The code stands on a line of its own. Not the first six digits anywhere: a test's random
# username ("a059340b4a1", greeted before the code) can hold six in a row.
CODE = re.compile(r"^\s*(\d{6})\s*$", re.M)


def text_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    assert part is not None, "the mail has no text part"
    return str(part.get_content())  # type: ignore[attr-defined]


def html_of(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("html",))
    assert part is not None, "the mail has no HTML part"
    return str(part.get_content())  # type: ignore[attr-defined]


def links_in(message: EmailMessage) -> list[str]:
    """Every http(s) URL in the text part, in order."""
    return URL.findall(text_of(message))


def code_in(message: EmailMessage) -> str:
    """The 6-digit code of the text part (the first line that is only a code)."""
    found = CODE.search(text_of(message))
    assert found is not None, "no 6-digit code in the mail"
    return found.group(1)


def deliver_outbox(app: Any) -> int:
    """Send everything due in ``app``'s outbox now; return how many messages were accepted."""
    from flask_bastion.mail import Sender

    state = app.extensions["bastion"]
    sender = Sender.for_settings(state.db, state.settings)
    sent = 0
    while True:
        result = sender.run_once()
        sent += result.sent
        if result.claimed < sender.batch:
            return sent


# ---- fixtures -----------------------------------------------------------------------------------


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def tls_certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    return make_certificate(tmp_path_factory.mktemp("smtp-tls"))


@pytest.fixture
def starttls_server(tls_certificate: Certificate) -> Iterator[SmtpServer]:
    server = SmtpServer(mode="starttls", certificate=tls_certificate)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def smtps_server(tls_certificate: Certificate) -> Iterator[SmtpServer]:
    server = SmtpServer(mode="smtps", certificate=tls_certificate)
    server.start()
    yield server
    server.stop()
