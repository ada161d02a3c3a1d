"""The open-redirect rule for ``next``: only a plain path on our own origin passes."""

from __future__ import annotations

import pytest

from flask_bastion.security.redirects import MAX_NEXT_LENGTH, is_safe_local_path, safe_next

pytestmark = pytest.mark.minimal_app

SAFE = [
    "/",
    "/app/",
    "/app/articles/12",
    "/app/articles?page=2&author=alice",
    "/app/articles#top",
    "/app/search?q=caf%C3%A9",
    "/app/a%20b",
    "/app/~user/x.y-z_w",
    "/login-help",
]

HOSTILE = [
    "",
    "//evil.com",
    "///evil.com",
    "////evil.com",
    "/\\evil.com",
    "\\\\evil.com",
    "\\/evil.com",
    "/\\/evil.com",
    "https://evil.com",
    "http://evil.com/app/",
    "HTTPS://evil.com",
    "//evil.com/app/",
    "javascript:alert(1)",
    "JavaScript:alert(1)",
    " javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "evil.com",
    "app/",
    "./app",
    "%2F%2Fevil.com",
    "/%2Fevil.com",
    "/%2F%2Fevil.com",
    "%2f%2fevil.com",
    "/%5Cevil.com",
    "/%5cevil.com",
    "%5C%5Cevil.com",
    "/%252F%252Fevil.com",
    "%252F%252Fevil.com",
    "/%25252F%25252Fevil.com",
    "/%2525252F%2525252Fevil.com",
    "/%09/evil.com",
    "/\t/evil.com",
    "/\n/evil.com",
    "/\r\n/evil.com",
    "/%0d%0aSet-Cookie:x=1",
    "/\x00/evil.com",
    "/%00",
    "/app/\x7f",
    "/ /evil.com",
    "/app/ x",
    "/\u3000/evil.com",
    "http:/evil.com",
    "https:evil.com",
    "/login",
    "/login?next=/app/",
    "/logout",
    "/logout/",
    "/" + "a" * MAX_NEXT_LENGTH,
]


@pytest.mark.parametrize("value", SAFE)
def test_local_paths_are_safe(value: str) -> None:
    assert is_safe_local_path(value)
    assert safe_next(value, "/app/") == value


@pytest.mark.parametrize("value", HOSTILE)
def test_hostile_values_fall_back_to_the_default(value: str) -> None:
    assert not is_safe_local_path(value)
    assert safe_next(value, "/app/") == "/app/"


def test_missing_value_falls_back_to_the_default() -> None:
    assert safe_next(None, "/app/") == "/app/"
