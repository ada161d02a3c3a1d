"""How emails and usernames are compared: NFKC then casefold, so look-alikes collide."""

from __future__ import annotations

import re
import unicodedata

# ASCII letters and digits only: beyond them, Cyrillic U+0430 or Ukrainian U+0456 draw the
# glyphs of Latin a and i, and casefolding cannot see it (UTS #39); usernames show as authors.
# Existing usernames are never re-checked against it: they keep signing in.
USERNAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")


def identity_key(value: str) -> str:
    """Comparison key of an email or username: ``Alice@Example.com`` -> ``alice@example.com``."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", value).casefold()).strip()


def looks_like_email(identity: str) -> bool:
    return "@" in identity
