"""Password hashing (Argon2id) and the password policy."""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import re
import threading
import unicodedata
from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterable
from functools import cache
from pathlib import Path
from typing import TypeVar
from urllib.parse import urlsplit

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from ..errors import BastionError, FieldError
from ..identity import identity_key


class HashingBusy(BastionError):
    """Every hashing slot stayed taken through the wait: shed the request, do not queue it."""

    status, code, detail = 503, "busy", "The server is busy; try again shortly."


T = TypeVar("T")


class Passwords:
    """Argon2id hashing with a dummy verification for accounts that do not exist.

    At most ``concurrency`` hashes run at once in this process: each holds ``memory_cost`` KiB,
    so a sign-in flood on many request threads would otherwise need memory without bound.
    A caller waits up to ``wait`` seconds for a slot, then gets :class:`HashingBusy` (503).
    """

    def __init__(
        self,
        *,
        time_cost: int,
        memory_cost: int,
        parallelism: int,
        concurrency: int = 2,
        wait: float = 2.0,
    ) -> None:
        self.hasher = PasswordHasher(
            time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism, type=Type.ID
        )
        self._dummy_hash: str | None = None
        self.slots = threading.BoundedSemaphore(max(1, concurrency))
        self.wait = wait

    def _bounded(self, work: Callable[[], T]) -> T:
        if not self.slots.acquire(timeout=self.wait):
            raise HashingBusy(headers={"Retry-After": "1"})
        try:
            return work()
        finally:
            self.slots.release()

    def hash(self, password: str) -> str:
        normalised = _normalise(password)
        return self._bounded(lambda: self.hasher.hash(normalised))

    def verify(self, password_hash: str, password: str) -> bool:
        normalised = _normalise(password)
        return self._bounded(lambda: self._verify(password_hash, normalised))

    def _verify(self, password_hash: str, normalised: str) -> bool:
        try:
            return self.hasher.verify(password_hash, normalised)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        return self.hasher.check_needs_rehash(password_hash)

    def verify_dummy(self, password: str) -> None:
        """Spend one real verification, so an unknown account costs what a known one does."""
        if self._dummy_hash is None:
            self._dummy_hash = self.hash("bastion-dummy-password")
        self.verify(self._dummy_hash, password)


def _normalise(password: str) -> str:
    # NFKC so the same password typed on two keyboards (composed vs decomposed) still matches.
    return unicodedata.normalize("NFKC", password)


class CommonPasswords:
    """A set of words kept as sorted 64-bit BLAKE2b digests: 8 bytes a word.

    The 30,000 most common passwords as a ``frozenset`` of strings hold about 3 MiB in every
    process (the server and each worker); as digests they hold 240 KB, and a lookup is one hash
    and a binary search. Two words share a digest with odds of about 1 in 10^15 for this list:
    the worst that could do is refuse one more password.
    """

    def __init__(self, words: Iterable[str]) -> None:
        self._digests = array("Q", sorted({_digest(word) for word in words}))

    def __contains__(self, word: object) -> bool:
        if not isinstance(word, str):
            return False
        wanted = _digest(word)
        at = bisect_left(self._digests, wanted)
        return at < len(self._digests) and self._digests[at] == wanted

    def __len__(self) -> int:
        return len(self._digests)


def _digest(word: str) -> int:
    return int.from_bytes(hashlib.blake2b(word.encode("utf-8"), digest_size=8).digest(), "big")


@cache
def common_passwords(top: int) -> CommonPasswords:
    """The ``top`` most common passwords of zxcvbn's leaked-password list, lower-cased."""
    return CommonPasswords(word.lower() for word in _zxcvbn_passwords()[:top])


# zxcvbn's data module holds each list as one string literal split on commas.
_PASSWORDS_LITERAL = re.compile(r'^\s*"passwords":\s*("(?:[^"\\\n]|\\.)*")', re.MULTILINE)


def _zxcvbn_passwords() -> list[str]:
    """zxcvbn's password list, most common first, read from its data file as text.

    Importing the zxcvbn package ranks every one of its lists into dictionaries we never use
    (12 MiB in every process); running its data module builds all its lists (names, words, TV
    subtitles) to keep one. Measured alone (2026-12-02), loading the list grew a process by
    7.8 MiB that way and by 2.9 MiB this way; in a whole worker the difference was about
    0.5 MiB, as what loads after it reuses the heap the other lists left.
    """
    package = importlib.util.find_spec("zxcvbn")  # finds the package without importing it
    if package is None or not package.submodule_search_locations:
        raise ImportError("zxcvbn is not installed")
    path = Path(package.submodule_search_locations[0]) / "frequency_lists.py"
    found = _PASSWORDS_LITERAL.search(path.read_text(encoding="utf-8"))
    if found is None:
        raise ImportError(f"no password list in {path}")
    words: str = ast.literal_eval(found.group(1))
    return words.split(",")


# Words every deployment refuses as a password: the library's own name is public knowledge.
BUILTIN_REFUSED_WORDS = ("bastion",)
# Digits and punctuation around a word ("Alice2024!") add little an attacker does not try first.
_DECORATION = re.compile(r"^[\W\d_]+|[\W\d_]+$")


def service_words(public_url: str, refused: Iterable[str]) -> tuple[str, ...]:
    """The words naming this service: the built-in ones, ``refused``, and the public host
    with each of its labels but the last (``news.example.org``: itself, ``news``, ``example``)."""
    host = urlsplit(public_url).hostname or ""
    labels = host.split(".")[:-1] if "." in host else [host]
    return (*BUILTIN_REFUSED_WORDS, *refused, host, *labels)


def policy_errors(
    password: str,
    *,
    min_length: int,
    max_length: int,
    common_top: int,
    personal: Iterable[str],
    service: Iterable[str] = (),
) -> list[FieldError]:
    """Why a new password is refused; empty when it is acceptable.

    Every rule judges the form that is hashed (NFKC), compared without case: a rule on the raw
    text would let a fullwidth ``password`` (U+FF50...) through, which then signs in as
    ``password``.
    """
    normalised = _normalise(password)
    length = len(normalised)
    if length < min_length:
        return [FieldError("password", "too_short", f"Use at least {min_length} characters.")]
    if length > max_length:  # checked before hashing: a huge input must not buy CPU time
        return [FieldError("password", "too_long", f"Use at most {max_length} characters.")]
    key = identity_key(normalised)
    core = _DECORATION.sub("", key)
    if key in common_passwords(common_top):
        return [
            FieldError(
                "password", "too_common", "This password is among the most common; choose another."
            )
        ]
    if _is_one_of({key, core}, personal):
        return [
            FieldError(
                "password", "too_personal", "The password must not be your email or username."
            )
        ]
    if _is_one_of({key, core}, service):
        return [
            FieldError(
                "password", "too_common", "The password must not be the name of this service."
            )
        ]
    return []


def _is_one_of(forms: set[str], words: Iterable[str]) -> bool:
    return any(identity_key(word) in forms for word in words if word.strip())
