"""Bastion's tables: users, roles, sessions, refresh tokens, signing keys, the mail outbox,
one-time account tokens.

Apps extend Base.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from .db import UTCDateTime

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Declarative base shared by Bastion's models and the app's own."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


user_roles = Table(
    "user_roles",
    Base.metadata,
    Column("user_id", ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("role_id", ForeignKey("roles.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Role(Base):
    __tablename__ = "roles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    description: Mapped[str] = mapped_column(String(255), default="")


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320))
    # NFKC + casefold of email and username: the keys that uniqueness and sign-in look up.
    email_key: Mapped[str] = mapped_column(String(320), unique=True)
    username: Mapped[str] = mapped_column(String(64))
    username_key: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # When the owner proved the address is theirs (a confirm link, a reset, a sign-in code).
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # Trackable: the sign-in before the current one, the current one, and how many there were.
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_login_ip: Mapped[str | None] = mapped_column(String(64), nullable=True)
    current_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    current_login_ip: Mapped[str | None] = mapped_column(String(64), nullable=True)
    login_count: Mapped[int] = mapped_column(Integer, server_default="0")

    roles: Mapped[list[Role]] = relationship(secondary=user_roles, lazy="selectin")

    @property
    def role_names(self) -> list[str]:
        return sorted(role.name for role in self.roles)


class AuthSession(Base):
    """A signed-in device: a browser's cookie session or an app's token session."""

    __tablename__ = "auth_sessions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # public, shown to the user
    # sha256 of the secret session token: a leaked table holds nothing that signs anyone in.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    remember: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime())
    authenticated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    idle_timeout: Mapped[int] = mapped_column(Integer)
    ip: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(512), default="")


class RefreshToken(Base):
    """One refresh token of an app session; the session's tokens are its rotation family."""

    __tablename__ = "refresh_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[str] = mapped_column(
        ForeignKey("auth_sessions.id", ondelete="CASCADE"), index=True
    )
    # sha256 of the opaque token: the table alone cannot be replayed.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # Set once, when the token is exchanged; a second use is a replay.
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class SigningKey(Base):
    """An access-token signing key, shared by every instance through the database."""

    __tablename__ = "signing_keys"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    algorithm: Mapped[str] = mapped_column(String(16))
    public_key: Mapped[str] = mapped_column(Text)
    # AES-GCM under a key derived from SECRET_KEY: a database dump alone cannot mint tokens.
    private_key: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    # When it stopped signing; it still verifies for one access-token lifetime after.
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class OutboxMessage(Base):
    """One mail, written in the transaction of the change that caused it, delivered later.

    ``status`` moves ``queued`` -> ``sending`` (claimed by one sender until ``claimed_until``)
    -> ``sent``, or back to ``queued`` with a later ``next_attempt_at`` after a temporary
    failure, or to ``failed`` (kept, for ``mail status``) after a permanent one or when the
    retry period has run out. See docs/mail.md.
    """

    __tablename__ = "mail_outbox"
    # The senders' one query: due rows by status and time.
    __table_args__ = (Index("ix_mail_outbox_status_next_attempt_at", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    to_address: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(998))  # RFC 5322's longest line
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str] = mapped_column(Text)
    template: Mapped[str] = mapped_column(String(64))  # which mail this is, for people and metrics
    # Fixed when queued: a message sent twice (a crash between the server's "250" and our
    # commit) carries the same Message-ID, so mail software can tell it is one message.
    message_id: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16), default="queued")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # A sender's lease on a row it is sending: past it, the row is due again (the sender died).
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    claimed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)


class AccountToken(Base):
    """A one-time secret mailed to a user: a confirm, reset or email-change link, or a sign-in
    code. Only its hash is kept (see :mod:`flask_bastion.security.one_time`)."""

    __tablename__ = "account_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(16))
    # sha256 of a link token, or a keyed hash of a sign-in code: the table grants nothing.
    token_hash: Mapped[str] = mapped_column(String(64), index=True)
    # The address the token speaks for: confirm (the one mailed), email change (the new one).
    email: Mapped[str | None] = mapped_column(String(320), nullable=True)
    # A reset token names the password it may replace: any password change voids it.
    password_fingerprint: Mapped[str | None] = mapped_column(String(64), nullable=True)
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


# ---- second factor (TOTP, recovery codes, the pending sign-in) -------------------------------


class TotpCredential(Base):
    """A user's authenticator app: its secret, sealed (see security/second_factor.py).

    ``confirmed_at`` is None between setup and the first correct code: until then it is no
    second factor, and a new setup replaces it.
    """

    __tablename__ = "totp_credentials"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    # Fernet under a key derived from SECRET_KEY: a database dump alone gives no codes.
    secret: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    # The time step of the last code accepted: that code, and older ones, never pass again.
    last_step: Mapped[int | None] = mapped_column(Integer, nullable=True)


class RecoveryCode(Base):
    """One single-use recovery code; only its keyed hash is kept."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class MfaChallenge(Base):
    """A sign-in whose first factor passed and whose second is awaited, for a few minutes.

    The client holds a random token (a browser in an HttpOnly cookie, an app as ``mfa_token``);
    the table keeps its sha256, so the table alone finishes no sign-in.
    """

    __tablename__ = "mfa_challenges"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    client_kind: Mapped[str] = mapped_column(String(8))  # browser | app: usable only as such
    method: Mapped[str] = mapped_column(String(16))  # the first factor, for tracking and audit
    remember: Mapped[bool] = mapped_column(Boolean, default=False)
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


# ---- passkeys (issue 11, item 3) -------------------------------------------------------------


class PasskeyUser(Base):
    """The WebAuthn user handle of an account: random bytes made at its first passkey and kept
    for good, so an authenticator never learns the numeric id (nor links accounts by it)."""

    __tablename__ = "passkey_users"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    user_handle: Mapped[bytes] = mapped_column(LargeBinary(64), unique=True)


class Passkey(Base):
    """A WebAuthn credential (a passkey) registered to an account."""

    __tablename__ = "passkeys"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # public, shown to the user
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    # The authenticator's id of the credential: what a sign-in assertion names (up to 1023
    # bytes by the spec).
    credential_id: Mapped[bytes] = mapped_column(LargeBinary(1023), unique=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary)  # COSE_Key
    sign_count: Mapped[int] = mapped_column(BigInteger, default=0)
    transports: Mapped[str] = mapped_column(String(255), default="")  # comma-separated hints
    user_handle: Mapped[bytes] = mapped_column(LargeBinary(64))
    name: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class PasskeyChallenge(Base):
    """A WebAuthn ceremony in flight: bound to one browser by the hash of the random handle in
    its HttpOnly cookie; the challenge itself is derived from that handle, never stored."""

    __tablename__ = "passkey_challenges"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    handle_hash: Mapped[str] = mapped_column(String(64), unique=True)
    purpose: Mapped[str] = mapped_column(String(16))  # register | login
    # Whose passkey a registration adds; None for a sign-in (the passkey says whose it is).
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True, nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)


class SecurityEvent(Base):
    """One security event, appended and never updated (see docs/security-events.md).

    ``user_id`` has no foreign key on purpose: an account's history outlives the account (an
    investigation of a takeover often starts after the account was deleted), until retention
    prunes it. ``details`` holds ids and outcomes, never a secret.
    """

    __tablename__ = "security_events"
    __table_args__ = (
        # The user's own listing and the admin's filter by user, newest first.
        Index("ix_security_events_user_id_id", "user_id", "id"),
        # The admin's filter by kind, newest first.
        Index("ix_security_events_kind_id", "kind", "id"),
        # AUTOINCREMENT: SQLite never hands out an id again, so ids only grow (the cursor).
        {"sqlite_autoincrement": True},
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True
    )
    # Indexed for retention: the prune finds old rows without a scan.
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    kind: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    ip: Mapped[str | None] = mapped_column(String(64), nullable=True)
    user_agent: Mapped[str | None] = mapped_column(String(256), nullable=True)
    session_id: Mapped[str | None] = mapped_column(String(32), nullable=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
