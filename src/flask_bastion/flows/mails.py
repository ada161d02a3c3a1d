"""The account mails: what each says and where its link points. Queued in the unit of work
through :func:`flask_bastion.mail.enqueue`, never sent inline."""

from __future__ import annotations

from ..config import Settings
from ..mail import enqueue
from ..models import User
from .context import FlowContext


def _api_link(settings: Settings, path: str) -> str:
    return settings.public_url.rstrip("/") + settings.url_prefix + path


def _lifetime(seconds: int) -> str:
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'' if count == 1 else 's'}"
    return f"{seconds} seconds"


def _spa_links(settings: Settings) -> dict[str, object]:
    base = settings.spa_base_url
    return {"login_link": base + "/login", "forgot_link": base + "/forgot-password"}


def confirm(ctx: FlowContext, user: User, token: str) -> None:
    enqueue(
        ctx,
        to=user.email,
        template="confirm",
        context={
            "username": user.username,
            "email": user.email,
            "link": _api_link(ctx.settings, f"/confirm/{token}"),
            "lifetime": _lifetime(ctx.settings.confirm_token_lifetime),
        },
    )


def already_registered(ctx: FlowContext, user: User) -> None:
    enqueue(
        ctx,
        to=user.email,
        template="already_registered",
        context={"username": user.username, "email": user.email, **_spa_links(ctx.settings)},
    )


def reset_password(ctx: FlowContext, user: User, token: str) -> None:
    enqueue(
        ctx,
        to=user.email,
        template="reset_password",
        context={
            "username": user.username,
            "link": _api_link(ctx.settings, f"/password/reset/{token}"),
            "lifetime": _lifetime(ctx.settings.reset_token_lifetime),
        },
    )


def password_changed(ctx: FlowContext, user: User) -> None:
    enqueue(
        ctx,
        to=user.email,
        template="password_changed",
        context={"username": user.username, **_spa_links(ctx.settings)},
    )


def email_change(ctx: FlowContext, user: User, new_email: str, token: str) -> None:
    enqueue(
        ctx,
        to=new_email,
        template="email_change",
        context={
            "username": user.username,
            "new_email": new_email,
            "link": _api_link(ctx.settings, f"/email/change/{token}"),
            "lifetime": _lifetime(ctx.settings.email_change_token_lifetime),
        },
    )


def email_change_notice(ctx: FlowContext, user: User) -> None:
    enqueue(
        ctx,
        to=user.email,
        template="email_change_notice",
        context={"username": user.username, "email": user.email, **_spa_links(ctx.settings)},
    )


def signin_code(ctx: FlowContext, user: User, code: str) -> None:
    enqueue(
        ctx,
        to=user.email,
        template="signin_code",
        context={
            "username": user.username,
            "code": code,
            "lifetime": _lifetime(ctx.settings.signin_code_lifetime),
        },
    )


def mfa_disabled(ctx: FlowContext, user: User) -> None:
    """Tell the owner their second factor is gone: if it was not them, they act now."""
    enqueue(
        ctx,
        to=user.email,
        template="mfa_disabled",
        context={"username": user.username, **_spa_links(ctx.settings)},
    )
