"""What every flow works with: the unit of work, the collaborators, the client and the time.

Views build one per request (:func:`flask_bastion.views.context.flow_context`); commands and
tests can build their own. Flows know nothing of HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from ..config import Settings
from ..ratelimit import RateLimits
from ..security.passwords import Passwords
from ..security.second_factor import MfaKeys
from ..security.signing import Signer
from ..signing_keys import AccessTokens
from ..state import BastionState


@dataclass(frozen=True)
class Client:
    """What we record about the device making the request."""

    ip: str
    user_agent: str


@dataclass(frozen=True)
class FlowContext:
    db: Session  # the request's unit of work: flows write through it and never commit
    settings: Settings
    passwords: Passwords
    limits: RateLimits
    access_tokens: AccessTokens
    client: Client
    now: datetime
    code_signer: Signer  # the keyed hash of sign-in codes (security/one_time.py)
    mfa_keys: MfaKeys  # TOTP secrets sealed, recovery codes hashed (security/second_factor.py)


def command_context(state: BastionState, db: Session, *, now: datetime) -> FlowContext:
    """A flow context for work outside a request (a command line, a job): no client device."""
    return FlowContext(
        db=db,
        settings=state.settings,
        passwords=state.passwords,
        limits=state.limits,
        access_tokens=state.access_tokens,
        client=Client(ip="", user_agent=""),
        now=now,
        code_signer=state.code_signer,
        mfa_keys=state.mfa_keys,
    )
