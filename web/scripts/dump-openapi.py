"""Print newsroom's OpenAPI document as JSON, without starting a server.

Run with the project's venv: ``../.venv/bin/python scripts/dump-openapi.py`` (from web/).
"""

from __future__ import annotations

import json
import sys

from newsroom import create_app


def main() -> None:
    app = create_app(
        {
            "BASTION_ENV": "testing",
            "SECRET_KEY": "openapi-dump-only-" + "x" * 40,
            "BASTION_DATABASE_URL": "sqlite://",
        }
    )
    response = app.test_client().get("/api/openapi.json")
    if response.status_code != 200:
        sys.exit(f"GET /api/openapi.json answered {response.status_code}")
    json.dump(response.json, sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
