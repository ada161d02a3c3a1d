"""The problem+json bodies of Bastion's error contracts, written out once for every test.

The builders and ``assert_problem`` come from :mod:`flask_bastion.testing`; the bodies are spelt
out here, not derived from the library, so a changed detail or code fails the suite.
"""

from __future__ import annotations

from flask_bastion.testing import assert_problem, invalid, problem
from flask_bastion.testing import field_error as field

__all__ = ["assert_problem", "field", "invalid", "problem"]

NOT_AUTHENTICATED = problem(401, "not_authenticated", "Sign in to continue.")
MISSING_ROLE = problem(403, "forbidden", "Your roles do not allow this.")
INVALID_TOKEN = problem(401, "invalid_token", "The access token is invalid or expired.")
INVALID_GRANT = problem(401, "invalid_grant", "The refresh token is invalid, expired or used.")
CSRF_FAILED = problem(403, "csrf_failed", "The CSRF token is missing or invalid.")
CROSS_SITE = problem(403, "csrf_failed", "Cross-site requests from this origin are not allowed.")
INVALID_CREDENTIALS = problem(401, "invalid_credentials", "The identity or password is wrong.")
MALFORMED = problem(400, "malformed_json", "The request body is not valid JSON.")
UNSUPPORTED = problem(415, "unsupported_media_type", "Send the body as application/json.")
TOO_LARGE = problem(413, "body_too_large", "The request body is too large.")
RATE_LIMITED = problem(429, "rate_limited", "Too many attempts; wait and try again.")
