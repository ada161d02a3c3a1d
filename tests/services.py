"""`python -m tests.services PG_URL REDIS_URL`: exit 0 when both answer, else say which not."""

from __future__ import annotations

import sys

import redis
from sqlalchemy import create_engine, text


def main(pg_url: str, redis_url: str) -> int:
    ok = True
    try:
        engine = create_engine(pg_url)
        with engine.connect() as conn:
            conn.execute(text("select 1"))
        engine.dispose()
    except Exception as exc:  # report any failure to connect, whatever its type
        print(f"PostgreSQL at {pg_url}: {exc.__class__.__name__}: {exc}", file=sys.stderr)
        ok = False
    try:
        redis.Redis.from_url(redis_url, socket_connect_timeout=3).ping()
    except Exception as exc:  # same: any failure means the pass cannot run
        print(f"Redis at {redis_url}: {exc.__class__.__name__}: {exc}", file=sys.stderr)
        ok = False
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
