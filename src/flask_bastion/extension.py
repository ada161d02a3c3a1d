"""The Flask extension: ``Bastion(app)`` or ``bastion.init_app(app)``."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, g, has_request_context, request
from werkzeug.exceptions import SecurityError

from . import security_events
from .access import current_principal, is_bearer_request
from .audit import AuditEvent
from .audit import record as audit
from .config import Settings, load_settings
from .cors import preflight
from .db import WORK_KEYS as DB_WORK_KEYS
from .db import Database
from .errors import (
    BearerNotAccepted,
    CsrfFailed,
    DevelopmentServer,
    RateLimited,
    UntrustedHost,
    failed_request_error,
    keeps_writes,
    register_error_handlers,
)
from .headers import REQUEST_ID_KEY, SharedHeaders
from .logs import request_id_from
from .mail.viewer import bp as mail_bp
from .ratelimit import RateLimits
from .security import csrf
from .security.devices import PURPOSE as DEVICE_PURPOSE
from .security.one_time import CODE_HASH_PURPOSE
from .security.origin import is_loopback, is_trusted_origin, origin_of
from .security.passwords import Passwords, common_passwords
from .security.second_factor import MfaKeys
from .security.signing import Signer
from .signers import secret_keys
from .signing_keys import AccessTokens, KeyStore
from .state import BastionState, current_bastion, this_app, this_g, this_request
from .transports import browser
from .views.accounts import bp as accounts_bp
from .views.auth import bp as auth_bp
from .views.devices import bp as devices_bp
from .views.docs import bp as docs_bp
from .views.links import bp as links_bp
from .views.mfa import bp as mfa_bp
from .views.passkeys import bp as passkeys_bp
from .views.security_events import admin_bp as admin_security_events_bp
from .views.security_events import bp as security_events_bp
from .views.tokens import bp as tokens_bp
from .views.tokens import wellknown as wellknown_bp

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1"})


class Bastion:
    """Secure sessions, CSRF, CORS, headers, errors and the auth API for a Flask app.

    Configure with ``BASTION_*`` keys (see the settings table in the docs) and ``SECRET_KEY``.
    Outside development, unsafe settings raise :class:`~flask_bastion.config.UnsafeConfiguration`.
    """

    def __init__(self, app: Flask | None = None) -> None:
        if app is not None:
            self.init_app(app)

    def init_app(self, app: Flask) -> None:
        settings = load_settings(app.config)
        secrets = secret_keys(app.config)
        database = Database(settings.database_url)
        keys = KeyStore(
            database.engine,
            secrets,
            cache_ttl=settings.signing_key_cache_ttl,
            token_lifetime=settings.access_token_lifetime,
        )
        state = BastionState(
            settings=settings,
            db=database,
            passwords=Passwords(
                time_cost=settings.argon2_time_cost,
                memory_cost=settings.argon2_memory_cost,
                parallelism=settings.argon2_parallelism,
                concurrency=settings.password_hash_concurrency,
            ),
            limits=RateLimits(settings.redis_url, prefix=settings.ratelimit_prefix),
            csrf_signer=Signer.for_purpose(secrets, "csrf"),
            code_signer=Signer.for_purpose(secrets, CODE_HASH_PURPOSE),
            device_signer=Signer.for_purpose(secrets, DEVICE_PURPOSE),
            mfa_keys=MfaKeys.derive(secrets),
            keys=keys,
            access_tokens=AccessTokens(
                keys,
                issuer=settings.issuer,
                audience=settings.audience,
                lifetime=settings.access_token_lifetime,
            ),
            trusted_origins=frozenset({settings.public_origin, *settings.cors_origins}),
        )
        state.limits.on_refusal = _record_refusal
        common_passwords(settings.common_passwords)  # load the list at start-up, not mid-request
        if app.config.get("TRUSTED_HOSTS") is None:
            app.config["TRUSTED_HOSTS"] = trusted_hosts(settings)
        app.extensions["bastion"] = state

        register_error_handlers(app)
        app.before_request(_start_request)
        app.after_request(_finish_response)
        app.teardown_appcontext(_end_unfinished_work)
        app.wsgi_app = SharedHeaders(app.wsgi_app, settings)  # type: ignore[method-assign]

        app.register_blueprint(auth_bp, url_prefix=settings.url_prefix)
        app.register_blueprint(devices_bp, url_prefix=settings.url_prefix)
        app.register_blueprint(accounts_bp, url_prefix=settings.url_prefix)
        app.register_blueprint(links_bp, url_prefix=settings.url_prefix)
        app.register_blueprint(security_events_bp, url_prefix=settings.url_prefix)
        app.register_blueprint(admin_security_events_bp, url_prefix=settings.api_prefix)
        app.register_blueprint(passkeys_bp, url_prefix=settings.url_prefix + "/passkeys")
        app.register_blueprint(mfa_bp, url_prefix=settings.url_prefix)
        app.register_blueprint(tokens_bp, url_prefix=settings.api_prefix)
        app.register_blueprint(wellknown_bp)
        app.register_blueprint(docs_bp, url_prefix=settings.api_prefix)
        app.register_blueprint(mail_bp)


def trusted_hosts(settings: Settings) -> list[str]:
    """The host names we answer for: ``PUBLIC_URL``'s and the allowed CORS origins'.

    Werkzeug builds redirects (``/app`` to ``/app/``) and ``request.host_url`` from the Host
    header, so any other name could turn our answers into links to someone else's site. Behind
    a proxy (``TRUSTED_PROXIES``) the forwarded host is the one checked. Ports are not compared
    (Werkzeug's rule): a port is not a name anyone else can own.
    """
    urls = [settings.public_url, *(o for o in settings.cors_origins if o not in ("*", "null"))]
    hosts = {host for url in urls if (host := urlsplit(url).hostname)}
    if is_loopback(urlsplit(settings.public_url).hostname):
        # A loopback PUBLIC_URL is this machine under any of its names (a test client says
        # "localhost" where the URL says 127.0.0.1); none of them is anyone else's site.
        hosts |= LOOPBACK_HOSTS
    return sorted(hosts)


def _is_development_server(app: Flask, environ: dict[str, Any]) -> bool:
    """Flask's development server (``flask run``, ``app.run()``) or debug mode turned on after
    start-up: neither is built to face the public, and the debugger runs code it is sent."""
    software = str(environ.get("SERVER_SOFTWARE", ""))
    return app.debug or software.startswith("Werkzeug/")


def _start_request() -> Response | None:
    app, req = this_app(), this_request()
    state: BastionState = app.extensions["bastion"]
    request_id = req.environ.get(REQUEST_ID_KEY)  # SharedHeaders's, which the answer carries
    g.request_id = request_id or request_id_from(req.headers.get("X-Request-ID"))
    if not state.settings.development and _is_development_server(app, req.environ):
        raise DevelopmentServer()
    if isinstance(req.routing_exception, SecurityError):  # a Host outside TRUSTED_HOSTS
        raise UntrustedHost()
    answer = preflight(req, state.settings)
    if answer is not None:
        return answer
    view = app.view_functions.get(req.endpoint or "")
    if browser.refuses_bearer(view) and is_bearer_request():
        raise BearerNotAccepted()
    if req.method in UNSAFE_METHODS and req.routing_exception is None:
        _enforce_csrf(state)
    return None


def _enforce_csrf(state: BastionState) -> None:
    """The CSRF rule, for every unsafe request that may carry cookies.

    A request whose bearer token authenticates is exempt: browsers never attach an
    Authorization header on their own, so a forged cross-site request cannot carry a valid
    one. A bad or junk bearer header exempts nothing: it is refused as ``invalid_token`` (401)
    before the view runs, whatever cookies ride along, so it can neither skip this check nor
    act with them; an app client reads that answer as "refresh or sign in again".
    """
    view = current_app.view_functions.get(request.endpoint or "")
    if view is not None and getattr(view, "_bastion_csrf_exempt", False):
        return
    if is_bearer_request():
        current_principal()  # raises InvalidToken unless the token authenticates
        return
    own = origin_of(request.host_url)
    if not is_trusted_origin(
        request.headers.get("Origin"),
        request.headers.get("Sec-Fetch-Site"),
        state.trusted_origins | {own},
    ):
        audit(
            AuditEvent.CSRF_FAILED,
            ip=request.remote_addr,
            reason="origin",
            origin=request.headers.get("Origin"),
        )
        raise CsrfFailed("Cross-site requests from this origin are not allowed.")
    binding = browser.csrf_binding(request, state.settings)
    if not csrf.check(
        state.csrf_signer,
        binding,
        browser.csrf_cookie(request, state.settings),
        browser.submitted_csrf_token(request, state.settings),
    ):
        audit(AuditEvent.CSRF_FAILED, ip=request.remote_addr, reason="token")
        raise CsrfFailed()


def _finish_response(response: Response) -> Response:
    """Commit the request's unit of work, then write its cookies (the headers every answer
    shares come after every hook: :class:`~flask_bastion.headers.SharedHeaders`).

    The commit comes first: if it fails, this raises, Flask renders the 500 instead, and no
    cookie of a sign-in that did not happen is set. The request's security events are written
    next, in their own transaction (:mod:`flask_bastion.security_events`).
    """
    if not _left_work():
        return response
    state = current_bastion()
    cookies = browser.take_cookies()
    signed_out = browser.take_clear_site_data()
    committed = keeps_writes(failed_request_error())
    state.db.finish(commit=committed)
    security_events.flush(state.db.engine, committed=committed)
    browser.write_cookies(response, state.settings, cookies)
    if signed_out:
        browser.clear_site_data(response)
    return response


def _end_unfinished_work(_exc: BaseException | None = None) -> None:
    """Roll back a unit of work nobody finished (an error before the response, or a command's
    app context), then write the refusals of a request that never reached
    :func:`_finish_response`: nothing of the rolled-back work rides along with them. One
    teardown for both, and for requests and commands alike; after a finished request there is
    nothing left, and it costs one look."""
    if not _left_work():
        return
    state = current_bastion()
    state.db.teardown()
    security_events.flush(state.db.engine, committed=False)


# Where a request's unfinished work waits on ``g``, each module's own keys: a request that left
# none (a health check, a page, a signed-in read) has nothing to commit, flush or write.
_WORK_KEYS = frozenset((*DB_WORK_KEYS, *security_events.WORK_KEYS, *browser.WORK_KEYS))


def _left_work() -> bool:
    """Whether this request (or app context) left work for the hooks: one look at ``g``."""
    return not _WORK_KEYS.isdisjoint(vars(this_g()))


def _record_refusal(error: RateLimited) -> None:
    """Audit a rate-limit refusal as the limiter makes it, whoever catches the 429 later (a
    form view renders its own page): the limiter calls this only for the first refusal of a
    key in its window, so an attack is one line, not one per try."""
    fields = {"user_id": error.user_id} if error.user_id is not None else {}
    ip = request.remote_addr if has_request_context() else None
    audit(AuditEvent.RATE_LIMITED, ip=ip, scope=error.scope, **fields)
