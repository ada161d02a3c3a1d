"""The credential lookup's read, by the shortest path: a SELECT compiled once per dialect and run
on the pool's DBAPI connection, skipping SQLAlchemy's execution layer.

Every request runs this read before anything else. Measured in process with
``python -m tests.bench.inprocess`` (2026-12-01, SQLite): the read itself costs 19 us this way
against 54 us through ``Connection.execute``, and a cookie ``GET /api/auth/session`` costs about
15 % less as a whole. Only statements wrapped here at import time are compiled (the two principal
queries of ``sessions.py``), so the cache is bounded; statements with expanding (``IN``)
parameters are refused. ``tests/test_fast_reads.py`` pins that the rows equal Core's.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, Select
from sqlalchemy.engine import Dialect

Processor = Callable[[Any], Any]


class FastRead:
    """One read-only SELECT, compiled on first use for each dialect."""

    def __init__(self, statement: Select[Any]) -> None:
        self.statement = statement
        self._compiled: WeakKeyDictionary[Dialect, _Compiled] = WeakKeyDictionary()

    def rows(
        self,
        engine: Engine,
        values: dict[str, Any],
        *,
        on_disconnect: Callable[[], None] | None = None,
    ) -> list[Any]:
        """The rows, as named tuples converted like Core's (UTC datetimes, booleans).

        ``engine`` is the database's reader (:attr:`flask_bastion.db.Database.reader`): on
        PostgreSQL its connections stay in autocommit, so this is one round trip. A lost
        connection is thrown away, then ``on_disconnect`` runs (by default the engine's pool
        starts afresh), and the driver's error is raised.
        """
        compiled = self._compiled.get(engine.dialect)
        if compiled is None:
            compiled = self._compiled[engine.dialect] = _Compiled(self.statement, engine.dialect)
        connection = engine.raw_connection()
        try:
            cursor = connection.cursor()
            try:
                cursor.execute(compiled.sql, compiled.parameters(values))
                return [compiled.convert(raw) for raw in cursor.fetchall()]
            except engine.dialect.loaded_dbapi.Error as error:
                if engine.dialect.is_disconnect(error, connection.dbapi_connection, cursor):
                    # What SQLAlchemy's own execution does on a lost connection, which this
                    # path skips: a server that dropped one connection (a restart) dropped
                    # every pooled one, so the pool starts afresh instead of failing a
                    # request for each. Connections other threads hold close when returned.
                    connection.invalidate(error)
                    (on_disconnect or engine.dispose)()
                raise
            finally:
                cursor.close()
        finally:
            connection.close()


class _Compiled:
    def __init__(self, statement: Select[Any], dialect: Dialect) -> None:
        compiled = statement.compile(dialect=dialect)
        if any(bind.expanding for bind in compiled.binds.values()):
            raise ValueError("a fast read takes no expanding (IN) parameters")
        self.sql = compiled.string
        self.binds: dict[str, Processor] = {}
        for name, bind in compiled.binds.items():
            convert = dialect.type_descriptor(bind.type).bind_processor(dialect)
            if convert is not None:
                self.binds[name] = convert
        columns = (
            dialect.type_descriptor(column.type).result_processor(dialect, None)
            for column in statement.selected_columns
        )
        # Only the columns whose driver value needs converting (datetimes, booleans on SQLite).
        self.converted = tuple((i, convert) for i, convert in enumerate(columns) if convert)
        names = compiled.positiontup if dialect.positional else None
        self.positional = tuple(names) if names is not None else None
        fields = [str(column.key) for column in statement.selected_columns]
        self.row: Callable[..., Any] = namedtuple("ReadRow", fields)._make  # type: ignore[attr-defined]

    def parameters(self, values: dict[str, Any]) -> Any:
        values = {k: self.binds[k](v) if k in self.binds else v for k, v in values.items()}
        if self.positional is None:
            return values
        return tuple(values[name] for name in self.positional)

    def convert(self, raw: Any) -> Any:
        values = list(raw)
        for index, convert in self.converted:
            values[index] = convert(values[index])
        return self.row(values)  # raises unless there is a value for every column
