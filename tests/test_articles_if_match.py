"""If-Match names a revision only in the exact spelling the API sent as the ETag.

The view turns entity tags into revisions for the flow to compare; these pin that a tag that
merely reads as the same numbers, or one that no revision could have, is refused with 412
(never matched, never a 500) and leaves the article as it was.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from flask_bastion.testing import SignedIn
from tests.newsroom_helpers import article_row, member
from tests.problems import problem

STALE = problem(412, "precondition_failed", "The resource changed since you read it.")

SPELLINGS = {
    "leading zero in the id": '"0{id}-{version}-{micros}"',
    "leading zero in the version": '"{id}-0{version}-{micros}"',
    "upper-case hex": '"{id}-{version}-{micros_upper}"',
    "zero-padded hex": '"{id}-{version}-0{micros}"',
    "signed id": '"+{id}-{version}-{micros}"',
    "a version too long for any row": '"{id}-' + "9" * 5000 + '-{micros}"',
    "a time before year 1": '"{id}-{version}--ffffffffffffffff"',
    "a time after year 9999": '"{id}-{version}-ffffffffffffffff"',
}


@pytest.fixture
def alice(app: Flask) -> SignedIn:
    return member(app, "alice")


@pytest.fixture
def article(alice: SignedIn) -> dict[str, Any]:
    response = alice.post("/api/articles", {"title": "First", "body": "Hello"})
    assert response.status_code == 201
    return dict(response.json, etag=response.headers["ETag"])


def _spelled(template: str, etag: str) -> str:
    article_id, version, micros = etag.strip('"').split("-")
    return template.format(
        id=article_id, version=version, micros=micros, micros_upper=micros.upper()
    )


@pytest.mark.parametrize("template", SPELLINGS.values(), ids=SPELLINGS.keys())
def test_other_spellings_of_the_current_etag_do_not_match(
    app: Flask, alice: SignedIn, article: dict[str, Any], template: str
) -> None:
    tag = _spelled(template, article["etag"])
    assert tag != article["etag"]
    path = f"/api/articles/{article['id']}"
    changed = alice.patch(path, {"title": "New"}, headers={"If-Match": tag})
    assert (changed.status_code, changed.json) == (412, STALE)
    deleted = alice.delete(path, headers={"If-Match": tag})
    assert (deleted.status_code, deleted.json) == (412, STALE)
    assert article_row(app, article["id"]).title == "First"

    # The control: the ETag exactly as sent still matches.
    written = alice.patch(path, {"title": "New"}, headers={"If-Match": article["etag"]})
    assert written.status_code == 200


def test_another_articles_etag_does_not_match(
    app: Flask, alice: SignedIn, article: dict[str, Any]
) -> None:
    other = alice.post("/api/articles", {"title": "Second", "body": "Hi"})
    assert other.status_code == 201
    path = f"/api/articles/{article['id']}"
    response = alice.patch(path, {"title": "New"}, headers={"If-Match": other.headers["ETag"]})
    assert (response.status_code, response.json) == (412, STALE)
    assert article_row(app, article["id"]).title == "First"
