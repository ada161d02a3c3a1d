"""Where a sign-in may send the browser next: only a path on our own site."""

from __future__ import annotations

from urllib.parse import unquote, urlsplit

MAX_NEXT_LENGTH = 2048
# Decoding this many times must settle; a value still changing after that is an obfuscation.
_MAX_DECODE_ROUNDS = 4
# Pages a sign-in must not bounce to: a loop, or a sign-out right after signing in.
_NEVER_NEXT = ("/login", "/logout")


def is_safe_local_path(value: str) -> bool:
    """True when ``value`` is a path on our own origin, however a browser or proxy decodes it.

    Browsers read ``//host``, ``/\\host`` and ``\\\\host`` as another host, strip tabs and
    newlines, and some servers decode ``%2F`` before redirecting again; so every decoding of the
    value must still be a plain ``/path`` without backslashes, control characters or a host.
    """
    if not value or len(value) > MAX_NEXT_LENGTH:
        return False
    if not value.isprintable() or any(c.isspace() for c in value):
        return False
    forms = [value]
    for _ in range(_MAX_DECODE_ROUNDS):
        decoded = unquote(forms[-1])
        if decoded == forms[-1]:
            break
        forms.append(decoded)
    else:
        return False
    return all(_is_plain_path(form) for form in forms)


def _is_plain_path(value: str) -> bool:
    if any(ord(c) < 0x20 or ord(c) == 0x7F or c == "\\" for c in value):
        return False
    if not value.startswith("/") or value.startswith("//"):
        return False
    parts = urlsplit(value)
    if parts.scheme or parts.netloc:
        return False
    return parts.path.rstrip("/") not in _NEVER_NEXT


def safe_next(value: str | None, default: str) -> str:
    """``value`` when it is a safe local path, else ``default``: never an open redirect."""
    return value if value is not None and is_safe_local_path(value) else default
