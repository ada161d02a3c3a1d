"""How emails and usernames are compared: NFKC then casefold, so look-alikes collide."""

from __future__ import annotations

import re
import unicodedata

USERNAME_PATTERN = re.compile(r"^[^\W][\w.-]*$")


def identity_key(value: str) -> str:
    """Comparison key of an email or username: ``Alice@Example.com`` -> ``alice@example.com``."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", value).casefold()).strip()


def looks_like_email(identity: str) -> bool:
    return "@" in identity
