"""Known devices: the browsers an account signed in from, and the mail about a new one.

A device is known to an account when it presents a signed known-device cookie naming the
account (see :mod:`flask_bastion.security.devices`) whose device still has its row here, seen
within ``BASTION_KNOWN_DEVICE_LIFETIME``. App clients (the token endpoint) carry no such cookie:
they are never known, so each of their sign-ins is mailed and waits out the per-account delay
like a stranger's. No HTTP here.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from ..models import KnownDevice, User
from ..security.devices import DeviceClaim, device_hash, new_device_id
from . import mails
from .context import FlowContext

USER_AGENT_KEPT = 256


def _row(ctx: FlowContext, claim: DeviceClaim) -> KnownDevice | None:
    row = ctx.db.scalars(
        select(KnownDevice).where(
            KnownDevice.user_id == claim.user_id,
            KnownDevice.device_hash == device_hash(claim.device_id),
        )
    ).first()
    lifetime = timedelta(seconds=ctx.settings.known_device_lifetime)
    if row is None or row.last_seen_at + lifetime <= ctx.now:
        return None
    return row


def _has_devices(ctx: FlowContext, user_id: int) -> bool:
    found = ctx.db.scalar(select(KnownDevice.id).where(KnownDevice.user_id == user_id).limit(1))
    return found is not None


def known_device(ctx: FlowContext, user_id: int) -> DeviceClaim | None:
    """This request's device, when it is a known device of ``user_id``."""
    claim = ctx.client.device_of(user_id)
    if claim is None or _row(ctx, claim) is None:
        return None
    return claim


def note_sign_in(
    ctx: FlowContext, user: User, *, browser: bool, first: bool = False
) -> DeviceClaim | None:
    """Remember the device that just signed in, and mail the user when it is new to them.

    ``first``: a registration's own sign-in, which mails nothing (the device is new by
    definition, and the user is right there). Neither does the first browser an account ever
    signs in from (after confirming its address, say, or the first sign-in since known devices
    were introduced): there is no device yet it would be new beside. Returns the browser's
    claim for its cookie.
    """
    if not browser:
        mails.new_device(ctx, user)
        return None
    claim = ctx.client.device_of(user.id)
    row = _row(ctx, claim) if claim is not None else None
    if claim is not None and row is not None:
        row.last_seen_at = ctx.now
        row.ip, row.user_agent = ctx.client.ip, ctx.client.user_agent[:USER_AGENT_KEPT]
        return claim
    first = first or not _has_devices(ctx, user.id)
    claim = DeviceClaim(user.id, new_device_id())
    ctx.db.add(
        KnownDevice(
            user_id=user.id,
            device_hash=device_hash(claim.device_id),
            created_at=ctx.now,
            last_seen_at=ctx.now,
            ip=ctx.client.ip,
            user_agent=ctx.client.user_agent[:USER_AGENT_KEPT],
        )
    )
    if not first:
        mails.new_device(ctx, user)
    return claim
