"""Article rules: list, read, write and delete, with ownership and optimistic locking. No HTTP.

Reads and writes go through SQLAlchemy Core on one connection: a list page is one joined query
plus one COUNT, with no ORM object graph in between.
"""

from __future__ import annotations

import functools
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeAlias, cast

from sqlalchemy import (
    ColumnElement,
    Integer,
    Row,
    Select,
    String,
    Table,
    bindparam,
    delete,
    func,
    insert,
    or_,
    select,
    tuple_,
    update,
)
from sqlalchemy.orm import Session

from flask_bastion import Principal
from flask_bastion.db import rowcount
from flask_bastion.errors import FieldError, PreconditionFailed, ValidationFailed
from flask_bastion.identity import identity_key
from flask_bastion.models import User
from flask_bastion.security.signing import Signer

from .. import cursors
from ..errors import ArticleNotFound, NotArticleEditor
from ..models import Article
from ..policy import may_edit_article
from ..schemas import (
    CURSOR_SORTS,
    ArticleCreate,
    ArticleCursorPage,
    ArticleListQuery,
    ArticlePage,
    ArticlePublic,
    ArticleUpdate,
    AuthorPublic,
)

Record: TypeAlias = Row[*tuple[Any, ...]]
# articles.id is a 32-bit INTEGER on PostgreSQL: larger ids cannot exist, so never query them.
MAX_ID = 2**31 - 1
LIKE_ESCAPE = "\\"

_a = cast(Table, Article.__table__)
_u = cast(Table, User.__table__)
_author_filter = _u.alias("author_filter")

_COLUMNS = (
    _a.c.id,
    _a.c.title,
    _a.c.body,
    _a.c.created_at,
    _a.c.updated_at,
    _a.c.version,
    _a.c.author_id,
    _u.c.username,
)
_LIST = select(*_COLUMNS).select_from(_a.join(_u, _u.c.id == _a.c.author_id))
_ONE = _LIST.where(_a.c.id == bindparam("id"))
_COUNT = select(func.count()).select_from(_a)
_RETURNING = (_a.c.id, _a.c.title, _a.c.body, _a.c.created_at, _a.c.updated_at, _a.c.version)
# Every order ends with id, so equal timestamps or titles still give one stable order.
_ORDER = {
    "-created_at": (_a.c.created_at.desc(), _a.c.id.desc()),
    "created_at": (_a.c.created_at.asc(), _a.c.id.asc()),
    "-updated_at": (_a.c.updated_at.desc(), _a.c.id.desc()),
    "updated_at": (_a.c.updated_at.asc(), _a.c.id.asc()),
    "-title": (_a.c.title.desc(), _a.c.id.desc()),
    "title": (_a.c.title.asc(), _a.c.id.asc()),
}


@dataclass(frozen=True)
class Versioned:
    """An article and the entity tag of the version it was read or written at."""

    article: ArticlePublic
    etag: str


def etag_of(row_id: int, version: int, created_at: datetime) -> str:
    # created_at tells apart a new article that reuses a deleted one's id (SQLite may do that).
    micros = (created_at - cursors.EPOCH) // timedelta(microseconds=1)
    return f"{row_id}-{version}-{micros:x}"


def escape_like(text: str) -> str:
    """``text`` as a literal inside a LIKE pattern: the escape char, % and _ lose their meaning."""
    return (
        text.replace(LIKE_ESCAPE, LIKE_ESCAPE * 2)
        .replace("%", LIKE_ESCAPE + "%")
        .replace("_", LIKE_ESCAPE + "_")
    )


def _item(row: Record) -> dict[str, Any]:
    return {
        "id": row.id,
        "title": row.title,
        "body": row.body,
        "author": {"id": row.author_id, "username": row.username},
        "created_at": row.created_at,
        "updated_at": row.updated_at,
    }


def _public(row: Record) -> ArticlePublic:
    return ArticlePublic.model_validate(_item(row))


def _versioned(row: Record) -> Versioned:
    return Versioned(_public(row), etag_of(row.id, row.version, row.created_at))


def _conditions(by_author: bool, searching: bool) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if by_author:
        author_id = (
            select(_author_filter.c.id)
            .where(_author_filter.c.username_key == bindparam("author_key"))
            .scalar_subquery()
        )
        conditions.append(_a.c.author_id == author_id)
    if searching:
        pattern = bindparam("pattern", type_=String())
        conditions.append(
            or_(
                _a.c.title.ilike(pattern, escape=LIKE_ESCAPE),
                _a.c.body.ilike(pattern, escape=LIKE_ESCAPE),
            )
        )
    return conditions


# Statements are built once per shape (sort x filters x mode), never per request; the values
# travel as bound parameters, so SQLAlchemy's compiled cache serves every request after the first.
@functools.cache
def _page_statements(sort: str, by_author: bool, searching: bool) -> tuple[Select[Any], ...]:
    conditions = _conditions(by_author, searching)
    count = _COUNT.where(*conditions)
    page = (
        _LIST.where(*conditions)
        .order_by(*_ORDER[sort])
        .limit(bindparam("limit", type_=Integer()))
        .offset(bindparam("offset", type_=Integer()))
    )
    return count, page


@functools.cache
def _cursor_statement(sort: str, by_author: bool, searching: bool, after: bool) -> Select[Any]:
    conditions = _conditions(by_author, searching)
    if after:
        key = tuple_(_a.c.created_at, _a.c.id)
        position = tuple_(
            bindparam("after_at", type_=_a.c.created_at.type),
            bindparam("after_id", type_=_a.c.id.type),
        )
        conditions.append(key < position if sort.startswith("-") else key > position)
    limit = bindparam("limit", type_=Integer())
    return _LIST.where(*conditions).order_by(*_ORDER[sort]).limit(limit)


def _filter_params(query: ArticleListQuery) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if query.author:
        params["author_key"] = identity_key(query.author)
    if query.q:
        params["pattern"] = f"%{escape_like(query.q)}%"
    return params


def pages_for(total: int, per_page: int) -> int:
    return -(-total // per_page)


def list_page(db: Session, query: ArticleListQuery) -> ArticlePage:
    """One numbered page; a page past the last one is empty, not an error."""
    count, page_stmt = _page_statements(query.sort, bool(query.author), bool(query.q))
    params = _filter_params(query)
    total = db.execute(count, params).scalar_one()
    offset = (query.page - 1) * query.per_page
    rows: Sequence[Record] = ()
    if offset < total:
        rows = db.execute(page_stmt, {**params, "limit": query.per_page, "offset": offset}).all()
    return ArticlePage.model_validate(
        {
            "items": [_item(row) for row in rows],
            "page": query.page,
            "per_page": query.per_page,
            "total": total,
            "pages": pages_for(total, query.per_page),
        }
    )


def _invalid(field: str, code: str, message: str) -> ValidationFailed:
    return ValidationFailed(errors=[FieldError(field, code, message)])


def list_after_cursor(db: Session, signer: Signer, query: ArticleListQuery) -> ArticleCursorPage:
    """One cursor page: rows after the cursor's (created_at, id), by index, at any depth."""
    if "page" in query.model_fields_set:
        raise _invalid("page", "conflicting_mode", "Use either page or cursor, not both.")
    if query.sort not in CURSOR_SORTS:
        raise _invalid(
            "sort",
            "unsupported_for_cursor",
            f"Cursor pages can be sorted by {' or '.join(CURSOR_SORTS)} only.",
        )
    params = _filter_params(query)
    params["limit"] = query.per_page + 1
    if query.cursor:
        try:
            position = cursors.decode(signer, query.cursor, max_id=MAX_ID)
        except ValueError:
            raise _invalid(
                "cursor", "invalid_cursor", "The cursor is malformed or forged."
            ) from None
        if position.sort != query.sort:
            raise _invalid(
                "sort", "cursor_sort_mismatch", "Keep the sort the cursor was made with."
            )
        params["after_at"], params["after_id"] = position.created_at, position.id
    stmt = _cursor_statement(query.sort, bool(query.author), bool(query.q), bool(query.cursor))
    rows = db.execute(stmt, params).all()
    next_cursor = None
    if len(rows) > query.per_page:
        rows = rows[: query.per_page]
        last = rows[-1]
        next_cursor = cursors.encode(signer, cursors.Position(query.sort, last.created_at, last.id))
    return ArticleCursorPage.model_validate(
        {"items": [_item(row) for row in rows], "next_cursor": next_cursor}
    )


def _fetch(db: Session, article_id: int) -> Record:
    if not 1 <= article_id <= MAX_ID:
        raise ArticleNotFound()
    row = db.execute(_ONE, {"id": article_id}).first()
    if row is None:
        raise ArticleNotFound()
    return row


def get_article(db: Session, article_id: int) -> Versioned:
    return _versioned(_fetch(db, article_id))


def create_article(
    db: Session, principal: Principal, data: ArticleCreate, *, now: datetime
) -> Versioned:
    """A new article by ``principal``; the author and timestamps are never the client's to set."""
    stmt = insert(_a).returning(*_RETURNING)
    row = db.execute(
        stmt,
        {
            "title": data.title,
            "body": data.body,
            "author_id": principal.user_id,
            "created_at": now,
            "updated_at": now,
            "version": 1,
        },
    ).one()
    article = ArticlePublic(
        id=row.id,
        title=row.title,
        body=row.body,
        author=AuthorPublic(id=principal.user_id, username=principal.username),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )
    return Versioned(article, etag_of(row.id, row.version, row.created_at))


def _check_write(principal: Principal, row: Record, if_match: Collection[str] | None) -> bool:
    """Enforce the edit rule and If-Match; whether the write must compare-and-swap the version."""
    if not may_edit_article(principal, row.author_id):
        raise NotArticleEditor()
    if if_match is None or "*" in if_match:  # "*": any current version will do
        return False
    if etag_of(row.id, row.version, row.created_at) not in if_match:
        raise PreconditionFailed()
    return True


def update_article(
    db: Session,
    principal: Principal,
    article_id: int,
    changes: ArticleUpdate,
    *,
    if_match: Collection[str] | None,
    now: datetime,
) -> Versioned:
    """Apply a partial update as the author or an editor/admin.

    With ``if_match`` (the entity tags the client last saw) the write is a compare-and-swap on
    the version it checked: of two editors holding the same tag exactly one wins, the other
    gets PreconditionFailed. Without it, the last write wins.
    """
    row = _fetch(db, article_id)
    swap = _check_write(principal, row, if_match)
    values = changes.model_dump(exclude_unset=True)
    if not values:
        return _versioned(row)
    stmt = update(_a).where(_a.c.id == row.id)
    if swap:
        stmt = stmt.where(_a.c.version == row.version)
    stmt = stmt.values(**values, updated_at=now, version=_a.c.version + 1)
    written = db.execute(stmt.returning(*_RETURNING)).first()
    if written is None:
        # Changed or deleted between our read and our write.
        raise PreconditionFailed() if swap else ArticleNotFound()
    article = ArticlePublic(
        id=written.id,
        title=written.title,
        body=written.body,
        author=AuthorPublic(id=row.author_id, username=row.username),
        created_at=written.created_at,
        updated_at=written.updated_at,
    )
    return Versioned(article, etag_of(written.id, written.version, written.created_at))


def delete_article(
    db: Session,
    principal: Principal,
    article_id: int,
    *,
    if_match: Collection[str] | None,
) -> None:
    """Delete as the author or an editor/admin; ``if_match`` guards it like an update."""
    row = _fetch(db, article_id)
    swap = _check_write(principal, row, if_match)
    stmt = delete(_a).where(_a.c.id == row.id)
    if swap:
        stmt = stmt.where(_a.c.version == row.version)
    if not rowcount(db.execute(stmt)):
        raise PreconditionFailed() if swap else ArticleNotFound()
