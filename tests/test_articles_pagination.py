"""Listing articles: numbered pages, keyset cursors, filters, sorts, and hostile query strings."""

from __future__ import annotations

import base64
from datetime import timedelta
from typing import Any
from urllib.parse import quote

import pytest
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from flask_bastion import current_bastion
from flask_bastion.testing import SignedIn
from newsroom.flows import articles as article_flows
from tests.conftest import AppFactory
from tests.newsroom_helpers import T0, insert_articles, member
from tests.problems import invalid

PROBLEM = "application/problem+json"


def ids(response: Any) -> list[int]:
    return [item["id"] for item in response.json["items"]]


def links(response: Any) -> dict[str, str]:
    """The Link header as {rel: url}."""
    found = {}
    for part in response.headers["Link"].split(", "):
        url, rel = part.split("; ")
        found[rel.removeprefix('rel="').removesuffix('"')] = url.strip("<>")
    return found


@pytest.fixture
def alice(app: Flask) -> SignedIn:
    return member(app, "alice")


@pytest.fixture
def newest_first(app: Flask, alice: SignedIn) -> list[int]:
    """45 articles a minute apart; their ids, newest first."""
    return list(reversed(insert_articles(app, alice.id, 45)))


def test_first_page(alice: SignedIn, newest_first: list[int]) -> None:
    response = alice.get("/api/articles?per_page=20")
    assert response.status_code == 200
    body = response.json
    assert {k: v for k, v in body.items() if k != "items"} == {
        "page": 1,
        "per_page": 20,
        "total": 45,
        "pages": 3,
        "total_is_estimate": False,
    }
    assert ids(response) == newest_first[:20]
    assert body["items"][0] == {
        "id": newest_first[0],
        "title": "Article 44",
        "body": "Body 44",
        "author": {"id": alice.id, "username": "alice"},
        "created_at": "2026-01-01T00:44:00Z",
        "updated_at": "2026-01-01T00:44:00Z",
    }
    assert links(response) == {
        "first": "/api/articles?per_page=20&page=1",
        "next": "/api/articles?per_page=20&page=2",
        "last": "/api/articles?per_page=20&page=3",
    }


def test_default_page_is_the_first_twenty(alice: SignedIn, newest_first: list[int]) -> None:
    response = alice.get("/api/articles")
    assert ids(response) == newest_first[:20]
    assert (response.json["page"], response.json["per_page"]) == (1, 20)


def test_middle_page(alice: SignedIn, newest_first: list[int]) -> None:
    response = alice.get("/api/articles?per_page=20&page=2")
    assert ids(response) == newest_first[20:40]
    assert links(response) == {
        "first": "/api/articles?per_page=20&page=1",
        "prev": "/api/articles?per_page=20&page=1",
        "next": "/api/articles?per_page=20&page=3",
        "last": "/api/articles?per_page=20&page=3",
    }


def test_last_page_is_partial(alice: SignedIn, newest_first: list[int]) -> None:
    response = alice.get("/api/articles?per_page=20&page=3")
    assert ids(response) == newest_first[40:]
    assert response.json["pages"] == 3
    assert links(response) == {
        "first": "/api/articles?per_page=20&page=1",
        "prev": "/api/articles?per_page=20&page=2",
        "last": "/api/articles?per_page=20&page=3",
    }


def test_a_page_past_the_end_is_empty_not_an_error(
    alice: SignedIn, newest_first: list[int]
) -> None:
    response = alice.get("/api/articles?per_page=20&page=9")
    assert response.status_code == 200
    assert response.json == {
        "items": [],
        "page": 9,
        "per_page": 20,
        "total": 45,
        "pages": 3,
        "total_is_estimate": False,
    }
    assert links(response) == {
        "first": "/api/articles?per_page=20&page=1",
        "prev": "/api/articles?per_page=20&page=3",
        "last": "/api/articles?per_page=20&page=3",
    }


def test_an_empty_list(alice: SignedIn) -> None:
    response = alice.get("/api/articles")
    assert response.status_code == 200
    assert response.json == {
        "items": [],
        "page": 1,
        "per_page": 20,
        "total": 0,
        "pages": 0,
        "total_is_estimate": False,
    }
    assert links(response) == {
        "first": "/api/articles?page=1",
        "last": "/api/articles?page=1",
    }


@pytest.mark.parametrize("per_page", [1, 100])
def test_per_page_bounds_are_inclusive(
    alice: SignedIn, newest_first: list[int], per_page: int
) -> None:
    response = alice.get(f"/api/articles?per_page={per_page}")
    assert response.status_code == 200
    assert ids(response) == newest_first[:per_page]
    assert response.json["pages"] == -(-45 // per_page)


def test_invalid_arguments_are_422(alice: SignedIn) -> None:
    for query, field, code, message in [
        (
            "per_page=101",
            "per_page",
            "less_than_equal",
            "Input should be less than or equal to 100",
        ),
        (
            "per_page=0",
            "per_page",
            "greater_than_equal",
            "Input should be greater than or equal to 1",
        ),
        ("page=0", "page", "greater_than_equal", "Input should be greater than or equal to 1"),
        ("page=-1", "page", "greater_than_equal", "Input should be greater than or equal to 1"),
        (
            "page=99999999999999999999",
            "page",
            "less_than_equal",
            "Input should be less than or equal to 1000000000",
        ),
        (
            "per_page=1e309",
            "per_page",
            "int_parsing",
            "Input should be a valid integer, unable to parse string as an integer",
        ),
        (
            "page=abc",
            "page",
            "int_parsing",
            "Input should be a valid integer, unable to parse string as an integer",
        ),
        (
            "sort=id",
            "sort",
            "literal_error",
            "Input should be '-created_at', 'created_at', '-updated_at', 'updated_at', "
            "'-title' or 'title'",
        ),
        (
            "q=a%00b",
            "q",
            "invalid_characters",
            "Text must not contain NUL characters or lone surrogates.",
        ),
        ("bogus=1", "bogus", "extra_forbidden", "Extra inputs are not permitted"),
        ("page=1&cursor=", "page", "conflicting_mode", "Use either page or cursor, not both."),
        (
            "cursor=&sort=title",
            "sort",
            "unsupported_for_cursor",
            "Cursor pages can be sorted by -created_at or created_at only.",
        ),
        ("cursor=abc", "cursor", "invalid_cursor", "The cursor is malformed or forged."),
    ]:
        response = alice.get(f"/api/articles?{query}")
        assert response.status_code == 422
        assert response.mimetype == PROBLEM
        assert response.json == invalid((field, code, message))


def test_repeated_argument_is_422(alice: SignedIn) -> None:
    response = alice.get("/api/articles?page=1&page=2")
    assert response.status_code == 422
    assert response.json["errors"][0]["field"] == "page"


SORTS = {
    "-created_at": lambda a: (a["created_at"], a["id"]),
    "created_at": lambda a: (a["created_at"], a["id"]),
    "title": lambda a: (a["title"], a["id"]),
    "-title": lambda a: (a["title"], a["id"]),
    "updated_at": lambda a: (a["updated_at"], a["id"]),
    "-updated_at": lambda a: (a["updated_at"], a["id"]),
}


def test_sorts(app: Flask, alice: SignedIn) -> None:
    # Equal timestamps and titles: the id breaks ties, so the order is total and stable.
    insert_articles(app, alice.id, 6, step=timedelta(0), title="Same")
    insert_articles(app, alice.id, 6, start=T0 - timedelta(days=1), title="T{n}")
    for sort, key in SORTS.items():
        items = alice.get(f"/api/articles?per_page=100&sort={sort}").json["items"]
        expected = sorted(items, key=key, reverse=sort.startswith("-"))
        assert [a["id"] for a in items] == [a["id"] for a in expected], sort


def test_filter_by_author_ignores_case(app: Flask, alice: SignedIn) -> None:
    bob = member(app, "Bob")
    mine = insert_articles(app, alice.id, 3)
    his = insert_articles(app, bob.id, 2, start=T0 + timedelta(hours=1))
    for name in ("bob", "BOB", "Bob"):
        response = alice.get(f"/api/articles?author={name}")
        assert ids(response) == list(reversed(his))
        assert response.json["total"] == 2
    assert ids(alice.get("/api/articles?author=alice")) == list(reversed(mine))
    nobody = alice.get("/api/articles?author=nobody")
    assert nobody.json == {
        "items": [],
        "page": 1,
        "per_page": 20,
        "total": 0,
        "pages": 0,
        "total_is_estimate": False,
    }


def test_search_title_and_body(app: Flask, alice: SignedIn) -> None:
    (in_title,) = insert_articles(app, alice.id, 1, title="Flask news", body="plain")
    (in_body,) = insert_articles(
        app, alice.id, 1, start=T0 + timedelta(hours=1), title="x", body="about FLASK"
    )
    insert_articles(app, alice.id, 1, start=T0 + timedelta(hours=2), title="y", body="z")
    response = alice.get("/api/articles?q=flask")
    assert ids(response) == [in_body, in_title]
    assert response.json["total"] == 2


def test_search_wildcards_are_literal(app: Flask, alice: SignedIn) -> None:
    for n, title in enumerate(["100% sure", "1000 sure", "a_b", "axb", "back\\slash"]):
        insert_articles(app, alice.id, 1, start=T0 + timedelta(minutes=n), title=title, body="-")
    for q, matches in [
        ("100%", ["100% sure"]),
        ("a_b", ["a_b"]),
        ("\\", ["back\\slash"]),
        ("%", ["100% sure"]),
        ("_", ["a_b"]),
    ]:
        response = alice.get(f"/api/articles?q={quote(q)}")
        assert response.status_code == 200
        assert [a["title"] for a in response.json["items"]] == matches, q


def test_sql_in_search_is_just_text(app: Flask, alice: SignedIn, newest_first: list[int]) -> None:
    for q in [
        "' OR 1=1 --",
        "'; DROP TABLE articles; --",
        '" OR ""="',
        "1) UNION SELECT * FROM users --",
    ]:
        response = alice.get(f"/api/articles?q={quote(q)}")
        assert response.status_code == 200
        assert response.json["total"] == 0
        assert alice.get("/api/articles").json["total"] == 45


def test_links_keep_the_other_arguments(app: Flask, alice: SignedIn) -> None:
    insert_articles(app, alice.id, 5, title="match {n}")
    response = alice.get("/api/articles?q=match&author=alice&per_page=2&sort=title&page=2")
    assert links(response) == {
        "first": "/api/articles?q=match&author=alice&per_page=2&sort=title&page=1",
        "prev": "/api/articles?q=match&author=alice&per_page=2&sort=title&page=1",
        "next": "/api/articles?q=match&author=alice&per_page=2&sort=title&page=3",
        "last": "/api/articles?q=match&author=alice&per_page=2&sort=title&page=3",
    }
    following = alice.get(links(response)["next"])
    assert [a["title"] for a in following.json["items"]] == ["match 4"]


def walk(client: SignedIn, query: str) -> list[list[int]]:
    pages, cursor = [], ""
    while True:
        response = client.get(f"/api/articles?{query}&cursor={cursor}")
        assert response.status_code == 200, response.json
        assert set(response.json) == {"items", "next_cursor"}
        pages.append(ids(response))
        cursor = response.json["next_cursor"]
        if cursor is None:
            assert "next" not in links(response)
            return pages
        assert links(response)["next"].endswith(f"cursor={cursor}")


def test_cursor_pages_walk_everything_once(alice: SignedIn, newest_first: list[int]) -> None:
    pages = walk(alice, "per_page=7")
    assert [len(p) for p in pages] == [7, 7, 7, 7, 7, 7, 3]
    assert [i for p in pages for i in p] == newest_first


def test_cursor_pages_oldest_first(alice: SignedIn, newest_first: list[int]) -> None:
    pages = walk(alice, "per_page=20&sort=created_at")
    assert [i for p in pages for i in p] == list(reversed(newest_first))


def test_cursor_pages_break_timestamp_ties_by_id(app: Flask, alice: SignedIn) -> None:
    same = insert_articles(app, alice.id, 9, step=timedelta(0))
    pages = walk(alice, "per_page=4")
    assert [i for p in pages for i in p] == sorted(same, reverse=True)


def test_cursor_pages_with_filters(app: Flask, alice: SignedIn, newest_first: list[int]) -> None:
    bob = member(app, "bob")
    his = insert_articles(app, bob.id, 5, title="bob's {n}")
    pages = walk(alice, "per_page=2&author=BOB")
    assert [i for p in pages for i in p] == list(reversed(his))


def test_a_cursor_list_of_nothing(alice: SignedIn) -> None:
    response = alice.get("/api/articles?cursor=")
    assert response.status_code == 200
    assert response.json == {"items": [], "next_cursor": None}


def test_an_exact_multiple_ends_without_an_empty_page(app: Flask, alice: SignedIn) -> None:
    insert_articles(app, alice.id, 6)
    assert [len(p) for p in walk(alice, "per_page=3")] == [3, 3]


def test_cursor_is_stable_while_articles_are_written(
    app: Flask, alice: SignedIn, newest_first: list[int]
) -> None:
    first = alice.get("/api/articles?per_page=10&cursor=")
    assert ids(first) == newest_first[:10]
    # New articles arrive (newer than everything) between page fetches; an older one is deleted.
    for n in range(3):
        assert alice.post("/api/articles", {"title": f"new {n}", "body": "b"}).status_code == 201
    assert alice.delete(f"/api/articles/{newest_first[15]}").status_code == 204
    seen = list(ids(first))
    cursor = first.json["next_cursor"]
    while cursor:
        response = alice.get(f"/api/articles?per_page=10&cursor={cursor}")
        seen += ids(response)
        cursor = response.json["next_cursor"]
        if cursor and len(seen) == 20:
            insert_articles(app, alice.id, 2, start=T0 + timedelta(days=30))
    assert seen == [i for i in newest_first if i != newest_first[15]]


def _tamper(cursor: str) -> list[str]:
    payload, _, signature = cursor.partition(".")
    raw = base64.urlsafe_b64decode(payload + "==").decode()
    forged = base64.urlsafe_b64encode(raw.replace(" 1", " 2", 1).encode()).decode().rstrip("=")
    return [
        f"{forged}.{signature}",  # another position, old signature
        f"{payload}.{signature[:-2]}AA",  # broken signature
        payload,  # no signature
        f"{payload}.",
        f".{signature}",
        "v1 -created_at 0 1",
        "%FF%FE." + signature,
        "x" * 300,
    ]


def test_forged_cursors_are_422(alice: SignedIn, newest_first: list[int]) -> None:
    cursor = alice.get("/api/articles?per_page=5&cursor=").json["next_cursor"]
    for bad in _tamper(cursor):
        response = alice.get(f"/api/articles?per_page=5&cursor={quote(bad, safe='%')}")
        assert response.status_code == 422, bad
        assert response.json["errors"][0]["field"] == "cursor"


def test_a_cursor_from_another_server_key_is_422(
    alice: SignedIn, newest_first: list[int], app_factory: AppFactory
) -> None:
    writer = member(app_factory(), "carol")
    foreign = writer.get("/api/articles?per_page=5&cursor=").json["next_cursor"]
    response = alice.get(f"/api/articles?per_page=5&cursor={foreign}")
    assert response.json == invalid(
        ("cursor", "invalid_cursor", "The cursor is malformed or forged.")
    )


def test_a_cursor_keeps_its_sort(alice: SignedIn, newest_first: list[int]) -> None:
    cursor = alice.get("/api/articles?per_page=5&cursor=").json["next_cursor"]
    response = alice.get(f"/api/articles?per_page=5&sort=created_at&cursor={cursor}")
    assert response.status_code == 422
    assert response.json == invalid(
        ("sort", "cursor_sort_mismatch", "Keep the sort the cursor was made with.")
    )


def test_cursor_survives_key_rotation(app: Flask, app_factory: AppFactory) -> None:
    old_key = app.config["SECRET_KEY"]
    writer = member(app, "alice")
    insert_articles(app, writer.id, 4)
    cursor = writer.get("/api/articles?per_page=2&cursor=").json["next_cursor"]
    rotated = app_factory(SECRET_KEY="n" * 48, SECRET_KEY_FALLBACKS=[old_key])
    reader = member(rotated, "bob")
    response = reader.get(f"/api/articles?per_page=2&cursor={cursor}")
    assert response.status_code == 200
    assert len(response.json["items"]) == 2


QUERY_KEYS = st.sampled_from(["page", "per_page", "cursor", "author", "q", "sort", "x"])
QUERY_VALUES = st.one_of(
    st.text(max_size=40),
    st.from_regex(r"-?[0-9]{1,30}(\.[0-9]+)?(e[0-9]{1,4})?", fullmatch=True),
    st.sampled_from(
        ["1e309", "NaN", "inf", "-0", "0x10", "1_000", "' OR 1=1 --", "%", "_", "\\", "title;--"]
    ),
)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(args=st.lists(st.tuples(QUERY_KEYS, QUERY_VALUES), max_size=4))
def test_hostile_query_strings_never_500(
    alice: SignedIn, newest_first: list[int], args: list[tuple[str, str]]
) -> None:
    query = "&".join(f"{quote(k)}={quote(v, safe='')}" for k, v in args)
    response = alice.get(f"/api/articles?{query}")
    assert response.status_code in (200, 422), (query, response.json)
    if response.status_code == 422:
        assert response.mimetype == PROBLEM
        assert response.json["errors"]


def test_the_longest_search_matches_exactly(app: Flask, alice: SignedIn) -> None:
    # 200 wildcard characters escape to a 402-character pattern: nothing may truncate it.
    (wanted,) = insert_articles(app, alice.id, 1, title="x", body="a" + "%" * 200 + "b")
    insert_articles(app, alice.id, 1, start=T0 + timedelta(hours=1), body="a" + "%" * 199 + "b")
    response = alice.get(f"/api/articles?q={quote('%' * 200)}")
    assert response.status_code == 200
    assert ids(response) == [wanted]


@pytest.mark.postgres
def test_a_huge_unfiltered_list_labels_its_total_an_estimate(
    app: Flask, alice: SignedIn, newest_first: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    """From EXACT_TOTAL_LIMIT rows on, page mode's total is PostgreSQL's estimate, not a COUNT
    (a COUNT over 1M rows takes a second); filtered lists stay exact."""
    monkeypatch.setattr(article_flows, "EXACT_TOTAL_LIMIT", 40)  # 45 articles: "huge"
    monkeypatch.setattr(article_flows, "ESTIMATE_MAX_AGE", 0.0)
    with app.app_context(), current_bastion().db.engine.connect() as conn:
        conn.execute(text("ANALYZE articles"))  # what autovacuum does on its own, now
        conn.commit()
    response = alice.get("/api/articles?per_page=20&page=2")
    assert response.status_code == 200
    body = response.json
    assert body["total_is_estimate"] is True
    assert body["total"] == 45  # ANALYZE has just counted them all
    assert body["pages"] == 3
    assert ids(response) == newest_first[20:40]
    assert links(response)["last"] == "/api/articles?per_page=20&page=3"
    filtered = alice.get("/api/articles?per_page=20&author=alice").json
    assert (filtered["total"], filtered["total_is_estimate"]) == (45, False)


def test_a_small_list_counts_its_total_exactly(
    app: Flask, alice: SignedIn, newest_first: list[int]
) -> None:
    body = alice.get("/api/articles?per_page=20").json
    assert (body["total"], body["total_is_estimate"]) == (45, False)
