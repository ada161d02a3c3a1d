"""Which browser requests come from a site we trust, judged from Origin and Sec-Fetch-Site."""

from __future__ import annotations

import ipaddress
from collections.abc import Collection
from urllib.parse import urlsplit


def origin_of(url: str) -> str:
    """``scheme://host[:port]`` of a URL, lower-cased, default ports dropped."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    if ":" in host:
        host = f"[{host}]"
    port = parts.port
    if port is None or (scheme, port) in (("http", 80), ("https", 443)):
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def is_loopback(host: str | None) -> bool:
    """Whether a host name or address can only be this machine (plain http is safe there)."""
    if not host:
        return False
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def is_trusted_origin(
    origin: str | None, sec_fetch_site: str | None, trusted: Collection[str]
) -> bool:
    """Whether an unsafe request may proceed, as far as its origin tells.

    An ``Origin`` header must name one of ours exactly; ``null`` (sandboxed frames, some
    redirects) is never trusted. Without ``Origin``, a browser that says ``cross-site`` or
    ``same-site`` (a sibling subdomain) is refused; non-browser clients send neither header.
    """
    if origin is not None:
        if origin.strip().lower() == "null":
            return False
        try:
            return origin_of(origin) in trusted
        except ValueError:
            return False
    return sec_fetch_site not in ("cross-site", "same-site")


def is_same_origin_request(
    sec_fetch_site: str | None, origin: str | None, referer: str | None, ours: Collection[str]
) -> bool:
    """Whether a request (a GET link, say) was made by one of our own pages.

    For actions a cross-site link must not trigger without asking (signing out). A browser's
    ``Sec-Fetch-Site`` decides when sent; else ``Origin`` or ``Referer`` must be ours exactly;
    no header at all (privacy settings strip them) is not proof, so it is refused.
    """
    if sec_fetch_site is not None:
        return sec_fetch_site == "same-origin"
    source = origin or referer
    if not source or source.strip().lower() == "null":
        return False
    try:
        return origin_of(source) in ours
    except ValueError:
        return False
