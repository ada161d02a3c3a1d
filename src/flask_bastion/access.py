"""Who is calling, and the decorators that let a view require it."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar, cast

from flask import g, request
from werkzeug.local import LocalProxy

from . import audit, clock, sessions
from .errors import Forbidden, InvalidToken, NotAuthenticated
from .openapi import describe
from .principal import Principal
from .state import current_bastion
from .transports import bearer, browser

F = TypeVar("F", bound=Callable[..., Any])
_UNSET = object()


def current_principal() -> Principal | None:
    """The signed-in principal of this request, loaded once; None when anonymous.

    A request with ``Authorization: Bearer`` is judged by its token alone: cookies are never
    consulted for it, so a stolen cookie cannot ride along with a bad token.
    """
    cached = g.get("_bastion_principal", _UNSET)
    if cached is not _UNSET:
        return cast("Principal | None", cached)
    state = current_bastion()
    now = clock.now()
    token = bearer.bearer_credentials(request)
    principal: Principal | None
    if token is not None:
        claims = state.access_tokens.verify(token, now)
        principal = sessions.for_access_token(state.db, claims, settings=state.settings, now=now)
        if principal is None:
            raise InvalidToken()
    else:
        cookie = browser.session_token(request, state.settings)
        principal = (
            sessions.lookup(state.db, cookie, settings=state.settings, now=now) if cookie else None
        )
    g._bastion_principal = principal
    return principal


def is_bearer_request() -> bool:
    """Whether this request carries ``Authorization: Bearer`` (it is then judged by it alone)."""
    return bearer.bearer_credentials(request) is not None


class _Anonymous:
    is_authenticated = False
    roles: frozenset[str] = frozenset()

    def has_role(self, role: str) -> bool:
        return False


ANONYMOUS = _Anonymous()
current_user: Any = LocalProxy(lambda: current_principal() or ANONYMOUS)


def require_principal() -> Principal:
    principal = current_principal()
    if principal is None:
        raise NotAuthenticated()
    return principal


def auth_required(view: F) -> F:
    """Let only signed-in callers (cookie or bearer) reach the view; others get 401."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        require_principal()
        return view(*args, **kwargs)

    describe(wrapper, auth=True)
    return cast(F, wrapper)


def roles_required(*roles: str) -> Callable[[F], F]:
    """Require every one of ``roles``: anonymous 401, missing a role 403."""
    return _role_check(roles, all)


def roles_accepted(*roles: str) -> Callable[[F], F]:
    """Require at least one of ``roles``: anonymous 401, holding none 403."""
    return _role_check(roles, any)


def _role_check(roles: tuple[str, ...], quantifier: Callable[[Any], bool]) -> Callable[[F], F]:
    def decorator(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            principal = require_principal()
            if not quantifier(r in principal.roles for r in roles):
                _refuse(principal, roles)
            return view(*args, **kwargs)

        describe(wrapper, auth=True, roles=list(roles))
        return cast(F, wrapper)

    return decorator


def require_role(role: str) -> Principal:
    """The signed-in principal, if it holds ``role``: for a role named at run time (a setting),
    where :func:`roles_required` names it at import. Anonymous 401, without the role 403."""
    principal = require_principal()
    if role not in principal.roles:
        _refuse(principal, (role,))
    return principal


def _refuse(principal: Principal, roles: tuple[str, ...]) -> NoReturn:
    audit.record(
        audit.AuditEvent.ACCESS_DENIED,
        ip=request.remote_addr,
        user_id=principal.user_id,
        method=request.method,
        path=request.path,
        reason="forbidden",
        required=sorted(roles),
    )
    raise Forbidden("Your roles do not allow this.")


def csrf_exempt(view: F) -> F:
    """Mark a view that takes no cookie credentials (a token endpoint, say) as CSRF-exempt."""
    view._bastion_csrf_exempt = True  # type: ignore[attr-defined]
    return view
