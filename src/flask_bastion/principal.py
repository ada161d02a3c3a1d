"""Who is making the request: a small immutable value, never an ORM object."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class SessionInfo:
    id: str
    kind: str
    created_at: datetime
    expires_at: datetime
    remember: bool


@dataclass(frozen=True, slots=True)
class Principal:
    """A signed-in user as seen by one request, with the session that carries them."""

    user_id: int
    email: str
    username: str
    roles: frozenset[str]
    created_at: datetime
    session_id: str
    session_kind: str
    session_created_at: datetime
    session_expires_at: datetime
    remember: bool
    authenticated_at: datetime

    is_authenticated = True

    @property
    def id(self) -> int:
        """The user's id (as response models name it)."""
        return self.user_id

    @property
    def session(self) -> SessionInfo:
        """The session carrying this request, as response models name its fields."""
        return SessionInfo(
            self.session_id,
            self.session_kind,
            self.session_created_at,
            self.session_expires_at,
            self.remember,
        )

    def has_role(self, role: str) -> bool:
        return role in self.roles

    def has_all(self, roles: Iterable[str]) -> bool:
        return all(r in self.roles for r in roles)

    def has_any(self, roles: Iterable[str]) -> bool:
        return any(r in self.roles for r in roles)
