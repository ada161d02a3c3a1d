"""Request and response bodies of the newsroom API, named after their intent."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Generic, Literal, TypeVar

from pydantic import Field, RootModel, StringConstraints, field_validator

from flask_bastion.schemas import Input, Output

from .policy import RoleName

T = TypeVar("T")

MAX_PER_PAGE = 100
# Far beyond any real list, small enough that OFFSET stays a 64-bit number everywhere.
MAX_PAGE = 1_000_000_000

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Body = Annotated[str, StringConstraints(min_length=1, max_length=100_000)]
SearchText = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]

ArticleSort = Literal["-created_at", "created_at", "-updated_at", "updated_at", "-title", "title"]
# Cursor pages walk the (created_at, id) index; other orders would cost more the deeper you go.
CURSOR_SORTS: tuple[str, ...] = ("-created_at", "created_at")


def _refuse_null(value: Any) -> Any:
    if value is None:
        raise ValueError("Leave the field out rather than sending null.")
    return value


class ArticleCreate(Input):
    title: Title
    body: Body


class ArticleUpdate(Input):
    """A partial update: send only the fields to change (none is a no-op); ``null`` is refused."""

    title: Title | None = None
    body: Body | None = None

    _no_null = field_validator("title", "body", mode="before")(_refuse_null)


class AuthorPublic(Output):
    id: int
    username: str


class ArticlePublic(Output):
    id: int
    title: str
    body: str
    author: AuthorPublic
    created_at: datetime
    updated_at: datetime


class Page(Output, Generic[T]):
    """One page of a page-numbered list; ``pages`` is 0 when the list is empty."""

    items: list[T]
    page: int
    per_page: int
    total: int
    pages: int


class ArticlePage(Page[ArticlePublic]):
    total_is_estimate: bool = Field(
        False,
        description=(
            "True when `total` (and so `pages`) is PostgreSQL's running estimate of the table's"
            " size instead of an exact count: unfiltered lists of 100,000 articles or more."
        ),
    )


class CursorPage(Output, Generic[T]):
    """One page of a cursor list; ``next_cursor`` is null on the last page."""

    items: list[T]
    next_cursor: str | None


class ArticleCursorPage(CursorPage[ArticlePublic]):
    pass


class ArticleListing(RootModel[ArticlePage | ArticleCursorPage]):
    """``GET /api/articles``: a numbered page, or a cursor page when ``cursor`` is given."""


class PageQuery(Input):
    page: int = Field(1, ge=1, le=MAX_PAGE)
    per_page: int = Field(20, ge=1, le=MAX_PER_PAGE)


class ArticleListQuery(Input):
    page: int = Field(1, ge=1, le=MAX_PAGE, description="Page number (page mode).")
    per_page: int = Field(20, ge=1, le=MAX_PER_PAGE)
    cursor: Annotated[str, StringConstraints(max_length=512)] | None = Field(
        None,
        description="Cursor mode: empty for the first page, then the previous next_cursor.",
    )
    author: Annotated[str, StringConstraints(strip_whitespace=True, max_length=64)] | None = Field(
        None, description="Only this author's articles (username, case-insensitive)."
    )
    q: SearchText | None = Field(None, description="Text to find in the title or body.")
    sort: ArticleSort = Field("-created_at", description="Cursor mode allows only ±created_at.")


class AdminUserPublic(Output):
    id: int
    email: str
    username: str
    roles: list[str]
    active: bool
    created_at: datetime
    # Trackable (docs/accounts.md): for admins only, never in what other users see.
    confirmed_at: datetime | None
    last_login_at: datetime | None
    last_login_ip: str | None
    current_login_at: datetime | None
    current_login_ip: str | None
    login_count: int

    @field_validator("roles", mode="before")
    @classmethod
    def _role_names(cls, value: Any) -> list[str]:
        # A user's Role rows or plain names: either way, names in a stable order.
        return sorted(getattr(role, "name", role) for role in value)


class AdminUserPage(Page[AdminUserPublic]):
    pass


class AdminUserQuery(PageQuery):
    q: SearchText | None = Field(None, description="Text to find in the email or username.")


class AdminUserUpdate(Input):
    """Replace a user's roles and/or switch the account on or off; ``null`` is refused.

    Roles come from a fixed set (``admin``, ``editor``); their rows are created on first use.
    """

    roles: list[RoleName] | None = Field(None, max_length=16)
    active: bool | None = None

    _no_null = field_validator("roles", "active", mode="before")(_refuse_null)
