"""Which GET requests come from our own pages (the sign-out link rule)."""

from __future__ import annotations

import pytest

from flask_bastion.security.origin import is_same_origin_request

pytestmark = pytest.mark.minimal_app

OURS = {"https://news.example.com", "http://localhost"}


@pytest.mark.parametrize(
    ("fetch_site", "origin", "referer"),
    [
        ("same-origin", None, None),
        ("same-origin", "https://evil.example", "https://evil.example/"),  # the browser decides
        (None, "https://news.example.com", None),
        (None, None, "https://news.example.com/app/articles?page=2"),
        (None, None, "http://localhost/app/"),
        (None, None, "HTTPS://NEWS.EXAMPLE.COM:443/x"),
    ],
)
def test_our_own_pages(fetch_site: str | None, origin: str | None, referer: str | None) -> None:
    assert is_same_origin_request(fetch_site, origin, referer, OURS)


@pytest.mark.parametrize(
    ("fetch_site", "origin", "referer"),
    [
        ("cross-site", None, None),
        ("same-site", None, "https://news.example.com/"),  # a sibling subdomain is not us
        ("none", None, None),  # typed in the address bar or a bookmark: ask first
        ("cross-site", "https://news.example.com", None),
        (None, None, None),
        (None, "null", None),
        (None, " NULL ", "https://news.example.com/"),
        (None, "https://news.example.com.evil.example", None),
        (None, None, "https://evil.example/?https://news.example.com"),
        (None, None, "http://news.example.com/"),  # another scheme is another origin
        (None, None, "https://news.example.com:8443/"),
        (None, None, "https://[::1/"),
        (None, None, "not a url"),
    ],
)
def test_anything_else(fetch_site: str | None, origin: str | None, referer: str | None) -> None:
    assert not is_same_origin_request(fetch_site, origin, referer, OURS)
