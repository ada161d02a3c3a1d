"""The articles API: thin views that parse, call a flow in flows.articles, and render.

The HTTP side of optimistic locking lives here: an article's revision travels as a strong
entity tag (``ETag`` out, ``If-Match`` in); the flow compares revisions, not header text.
"""

from __future__ import annotations

import re
from datetime import timedelta

from flask import Blueprint, Response, request

from flask_bastion import auth_required, clock, current_bastion, signer
from flask_bastion.access import require_principal
from flask_bastion.openapi import describe, responds
from flask_bastion.schemas import ProblemDetails
from flask_bastion.validation import api_body, json_body, query_args
from flask_bastion.views.context import denials_recorded
from flask_bastion.views.render import render

from .. import cursors
from ..flows import articles
from ..schemas import (
    ArticleCreate,
    ArticleCursorPage,
    ArticleListing,
    ArticleListQuery,
    ArticlePage,
    ArticlePublic,
    ArticleUpdate,
)
from .links import cursor_links, page_links

bp = Blueprint("articles", __name__)


def _etag(revision: articles.Revision) -> str:
    micros = (revision.created_at - cursors.EPOCH) // timedelta(microseconds=1)
    return f"{revision.id}-{revision.version}-{micros:x}"


# What _etag writes, with bounds that keep the numbers inside what int() and datetime accept.
_ETAG = re.compile(r"([0-9]{1,10})-([0-9]{1,19})-(-?[0-9a-f]{1,16})")


def _revision_named(tag: str) -> articles.Revision | None:
    """The revision an entity tag names, if it is one this API could have sent."""
    match = _ETAG.fullmatch(tag)
    if match is None:
        return None
    article_id, version, micros = match.groups()
    try:
        created_at = cursors.EPOCH + timedelta(microseconds=int(micros, 16))
    except OverflowError:
        return None
    revision = articles.Revision(int(article_id), int(version), created_at)
    # Only the exact spelling we send matches, as it did when tags were compared as text.
    return revision if _etag(revision) == tag else None


def _expected_revisions() -> set[articles.Revision] | None:
    """The revisions If-Match names; None when any will do (no header, or ``*``).

    A header naming nothing this API sent expects a revision that never exists, so it fails.
    """
    if "If-Match" not in request.headers:
        return None
    tags = request.if_match
    if tags.star_tag:
        return None
    named = (_revision_named(tag) for tag in tags.as_set())
    return {revision for revision in named if revision is not None}


def _article(article: articles.StoredArticle, status: int = 200) -> Response:
    response = render(ArticlePublic.model_validate(article), status)
    response.set_etag(_etag(article.revision))
    return response


@bp.get("/articles")
@auth_required
@query_args(ArticleListQuery)
@responds(200, ArticleListing, "A page of articles, with RFC 8288 Link headers")
@responds(422, ProblemDetails, "Invalid arguments: a bound, an unknown sort, a bad cursor")
def list_articles(query: ArticleListQuery) -> Response:
    """List articles, newest first, by page number or by cursor.

    Page mode (`page`, default 1) answers `items`, `page`, `per_page`, `total` and `pages`; a page
    past the last one is empty, not an error. Cursor mode starts with an empty `cursor=` and
    continues with each answer's `next_cursor` (null on the last page); its cost does not grow
    with depth, and it sorts by `-created_at` or `created_at` only. Both modes send `Link`
    headers (first/prev/next/last). `author` filters by username, `q` searches title and body.
    """
    db = current_bastion().db.session
    if query.cursor is None:
        page = articles.list_page(db, query)
        response = render(ArticlePage.model_validate(page))
        response.headers["Link"] = page_links(page.page, page.pages)
        return response
    cursor_page = articles.list_after_cursor(db, signer(cursors.PURPOSE), query)
    response = render(ArticleCursorPage.model_validate(cursor_page))
    response.headers["Link"] = cursor_links(cursor_page.next_cursor)
    return response


@bp.post("/articles")
@auth_required
@json_body(ArticleCreate, max_body=api_body)
@responds(201, ArticlePublic, "Created; Location and ETag headers point at it")
def create_article(body: ArticleCreate) -> Response:
    """Write an article as the signed-in user."""
    principal = require_principal()
    article = articles.create_article(
        current_bastion().db.session, principal, body, now=clock.now()
    )
    response = _article(article, 201)
    response.headers["Location"] = f"{request.script_root}{request.path}/{article.id}"
    return response


@bp.get("/articles/<int:article_id>")
@auth_required
@responds(200, ArticlePublic, "The article, with its ETag")
@responds(304, None, "Not modified since the ETag sent in If-None-Match")
@responds(404, ProblemDetails, "No such article")
def get_article(article_id: int) -> Response:
    """Read one article (If-None-Match answers 304 when unchanged)."""
    article = articles.get_article(current_bastion().db.session, article_id)
    response = _article(article)
    response.make_conditional(request)  # 304 when If-None-Match names this version
    return response


@bp.patch("/articles/<int:article_id>")
@auth_required
@json_body(ArticleUpdate, max_body=api_body)
@responds(200, ArticlePublic, "Updated, with the new ETag")
@responds(403, ProblemDetails, "Neither the author nor an editor or admin")
@responds(404, ProblemDetails, "No such article")
@responds(412, ProblemDetails, "If-Match names an older version: re-read and retry")
def update_article(article_id: int, body: ArticleUpdate) -> Response:
    """Change an article's title and/or body (the author, an editor or an admin).

    Send `If-Match` with the ETag you read so that a concurrent edit is refused with 412
    instead of being overwritten; without `If-Match` the last write wins.
    """
    principal = require_principal()
    with denials_recorded(principal.user_id, article_id=article_id):
        article = articles.update_article(
            current_bastion().db.session,
            principal,
            article_id,
            body,
            expected=_expected_revisions(),
            now=clock.now(),
        )
    return _article(article)


@bp.delete("/articles/<int:article_id>")
@auth_required
@responds(204, None, "Deleted")
@responds(403, ProblemDetails, "Neither the author nor an editor or admin")
@responds(404, ProblemDetails, "No such article")
@responds(412, ProblemDetails, "If-Match names an older version")
def delete_article(article_id: int) -> Response:
    """Delete an article (the author, an editor or an admin); honours If-Match."""
    principal = require_principal()
    with denials_recorded(principal.user_id, article_id=article_id):
        articles.delete_article(
            current_bastion().db.session, principal, article_id, expected=_expected_revisions()
        )
    return Response(status=204)


for _view in (list_articles, create_article, get_article, update_article, delete_article):
    describe(_view, tag="articles")
