"""newsroom with one slow endpoint, for the graceful-shutdown test (never in production code)."""

from __future__ import annotations

import os
import time

from flask import Response

from newsroom import create_app

SLOW_SECONDS = float(os.environ.get("TEST_SLOW_SECONDS", "3"))

app = create_app()


@app.get("/test/slow")
def slow() -> Response:
    time.sleep(SLOW_SECONDS)
    return Response("finished", mimetype="text/plain")
