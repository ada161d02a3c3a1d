"""Opaque, signed keyset cursors: where the previous cursor page stopped, and in which order."""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from flask_bastion.security.signing import Signer

# The signer's purpose; renaming it voids every cursor a client holds.
PURPOSE = "newsroom-cursor"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_PAYLOAD = re.compile(r"^v1 (?P<sort>-?created_at) (?P<at>-?[0-9]{1,18}) (?P<id>[0-9]{1,10})$")
_MAX_MICROS = int((datetime(9999, 12, 31, tzinfo=UTC) - EPOCH) / timedelta(microseconds=1))


@dataclass(frozen=True)
class Position:
    """The last row of a page: its (created_at, id) key, and the order the pages walk in."""

    sort: str
    created_at: datetime
    id: int


def encode(signer: Signer, position: Position) -> str:
    micros = (position.created_at - EPOCH) // timedelta(microseconds=1)
    payload = f"v1 {position.sort} {micros} {position.id}"
    # Signed so the cursor stays opaque: clients cannot craft positions or depend on its shape.
    encoded = base64.urlsafe_b64encode(payload.encode()).rstrip(b"=").decode()
    return f"{encoded}.{signer.sign(payload)}"


def decode(signer: Signer, cursor: str, *, max_id: int) -> Position:
    """The position in a cursor; ValueError for anything malformed, forged or out of range."""
    encoded, dot, signature = cursor.partition(".")
    if not dot or not encoded or len(cursor) > 256:
        raise ValueError("malformed cursor")
    try:
        payload = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise ValueError("malformed cursor") from None
    if not signer.verify(payload, signature):
        raise ValueError("forged cursor")
    match = _PAYLOAD.match(payload)
    if match is None:
        raise ValueError("malformed cursor")
    micros, row_id = int(match["at"]), int(match["id"])
    if not 0 <= micros <= _MAX_MICROS or not 1 <= row_id <= max_id:
        raise ValueError("cursor out of range")
    return Position(match["sort"], EPOCH + timedelta(microseconds=micros), row_id)
