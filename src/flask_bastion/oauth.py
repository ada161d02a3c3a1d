"""The OAuth 2.0 face of the token endpoints: how their bodies arrive and how their errors read.

The token, refresh and revoke endpoints are spoken to by OAuth client libraries (Authlib,
AppAuth, ...) as well as by our own JSON clients. So they take a body as JSON or as the
``application/x-www-form-urlencoded`` form of RFC 6749 and RFC 7009, ignore parameters they do
not know (RFC 6749 3.2), refuse client credentials (we register no clients: every app client is
public) and answer every error with the RFC 6749 5.2 members ``error`` and ``error_description``
beside the problem+json ones. :data:`OAUTH_ERRORS` is the one mapping from our codes to theirs.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl

from flask import Response, json, request
from werkzeug.exceptions import RequestEntityTooLarge

from .errors import PROBLEM_MIMETYPE, BastionError, UnsupportedMediaType
from .validation import read_json

FORM = "application/x-www-form-urlencoded"

# A form has a handful of fields; thousands are an attack on the parser, not a token request.
_MAX_FORM_FIELDS = 64


class InvalidClient(BastionError):
    """Client credentials were presented, but no client is registered: every app is public."""

    status, code, detail = (
        401,
        "invalid_client",
        "Unknown client: this server has no confidential clients; send no client secret.",
    )

    def __init__(self) -> None:
        # RFC 6749 5.2: a 401 invalid_client names the authentication scheme the client may use.
        super().__init__(headers={"WWW-Authenticate": 'Basic realm="token"'})


class UnsupportedGrantType(BastionError):
    status, code, detail = (
        400,
        "unsupported_grant_type",
        "This grant type is not supported here: use password or refresh_token.",
    )


class MalformedForm(BastionError):
    status, code, detail = 400, "malformed_form", "The request body is not a valid form."


# Our stable codes and the RFC 6749 5.2 error each one is for an OAuth client. Statuses stay
# ours (a wrong password is 401 as on the browser sign-in); OAuth clients read the member.
OAUTH_ERRORS: dict[str, str] = {
    "malformed_json": "invalid_request",
    "malformed_form": "invalid_request",
    "validation_failed": "invalid_request",
    "unsupported_media_type": "invalid_request",
    "body_too_large": "invalid_request",
    "invalid_client": "invalid_client",
    "invalid_credentials": "invalid_grant",
    "account_disabled": "invalid_grant",
    "sign_in_pending": "invalid_grant",
    "email_unconfirmed": "invalid_grant",
    "invalid_code": "invalid_grant",
    # The grant is not enough on its own; our ``code`` (and ``mfa_token``) say what comes next.
    "mfa_required": "invalid_grant",
    "invalid_mfa_code": "invalid_grant",
    "mfa_challenge_invalid": "invalid_grant",
    "invalid_grant": "invalid_grant",
    "unsupported_grant_type": "unsupported_grant_type",
    # The request was sound; the client should wait (Retry-After) and send it again.
    "rate_limited": "temporarily_unavailable",
    "internal_error": "server_error",
}

# RFC 6749 5.2: error_description is limited to printable ASCII without '"' and '\'.
_NOT_IN_DESCRIPTION = re.compile(r"[^\x20-\x21\x23-\x5b\x5d-\x7e]")


def oauth_error(code: str, status: int) -> str:
    """The RFC 6749 error for one of our codes; an unknown code falls back by status."""
    if code in OAUTH_ERRORS:
        return OAUTH_ERRORS[code]
    if status == 503:
        return "temporarily_unavailable"
    return "server_error" if status >= 500 else "invalid_request"


def add_oauth_error_members(response: Response) -> Response:
    """After a token endpoint's view: give its problem answer the RFC 6749 5.2 members.

    This runs on the rendered answer rather than where errors are raised, so every error of
    these endpoints gets the members, whichever layer raised it (werkzeug's 413 included).
    """
    if response.status_code < 400 or response.mimetype != PROBLEM_MIMETYPE:
        return response
    body = json.loads(response.get_data())
    if not isinstance(body, dict) or "error" in body:
        return response
    body["error"] = oauth_error(str(body.get("code", "")), response.status_code)
    body["error_description"] = _NOT_IN_DESCRIPTION.sub("?", str(body.get("detail", "")))
    response.set_data(json.dumps(body))
    return response


def read_oauth_body(max_body: int) -> Any:
    """The body as JSON or as the OAuth form: 415 for anything else, 413 above ``max_body``.

    JSON may decode to a non-object; validation refuses that.

    A form field sent twice stays a list, so validation refuses it (RFC 6749 3.2: parameters
    must not repeat). Client credentials are refused before anything else is read from it.
    """
    if request.mimetype == FORM:
        data = _read_form(max_body)
    elif request.mimetype == "application/json" or request.mimetype.endswith("+json"):
        data = read_json(max_body)
    else:
        raise UnsupportedMediaType(
            "Send the body as application/json or application/x-www-form-urlencoded."
        )
    if isinstance(data, dict):
        refuse_client_credentials(data)
    return data


def refuse_client_credentials(data: dict[str, Any]) -> None:
    """A client secret, in the body or as HTTP Basic, names a client we do not know.

    A public client may name itself (``client_id``, or Basic with an empty secret): that is
    ignored, since it proves nothing.
    """
    basic = request.authorization
    if basic is not None and basic.type == "basic" and basic.password:
        raise InvalidClient()
    if data.get("client_secret") not in (None, ""):
        raise InvalidClient()
    if data.get("client_assertion") not in (None, ""):  # RFC 7523 client authentication
        raise InvalidClient()


def _read_form(max_body: int) -> dict[str, Any]:
    # One byte over the limit: werkzeug silently truncates a chunked body at exactly the limit.
    request.max_content_length = max_body + 1
    if request.content_length is not None and request.content_length > max_body:
        raise RequestEntityTooLarge()
    raw = request.get_data(cache=True)
    if len(raw) > max_body:
        raise RequestEntityTooLarge()
    try:
        # RFC 6749 Appendix B: the form is UTF-8; anything else is refused, not guessed at.
        pairs = parse_qsl(
            raw.decode("utf-8"),
            keep_blank_values=True,
            encoding="utf-8",
            errors="strict",
            max_num_fields=_MAX_FORM_FIELDS,
        )
    except ValueError:  # UnicodeDecodeError included
        raise MalformedForm() from None
    data: dict[str, Any] = {}
    for key, value in pairs:
        if key in data:
            previous = data[key]
            data[key] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            data[key] = value
    return data
