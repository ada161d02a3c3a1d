"""Query helpers every newsroom list shares: id bounds, LIKE escaping and numbered pages."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeAlias, TypeVar

from sqlalchemy import Row

T = TypeVar("T")

Record: TypeAlias = Row[*tuple[Any, ...]]
# Ids are 32-bit INTEGER columns on PostgreSQL: larger ids cannot exist, so never query them.
MAX_ID = 2**31 - 1
LIKE_ESCAPE = "\\"


def escape_like(text: str) -> str:
    """``text`` as a literal inside a LIKE pattern: the escape char, % and _ lose their meaning."""
    return (
        text.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2)
        .replace("%", LIKE_ESCAPE + "%")
        .replace("_", LIKE_ESCAPE + "_")
    )


def offset_of(page: int, per_page: int) -> int:
    return (page - 1) * per_page


@dataclass(frozen=True, slots=True)
class NumberedPage(Generic[T]):
    """One page of a page-numbered list; a page past the last one holds no items."""

    items: Sequence[T]
    page: int
    per_page: int
    total: int
    total_is_estimate: bool = False  # total is the database's running estimate, not a COUNT

    @property
    def pages(self) -> int:
        """How many pages the list has; 0 when it is empty."""
        return -(-self.total // self.per_page)
