"""Fixtures for the store tests: one store per dialect, each in a private database/schema."""

from __future__ import annotations

import importlib
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from persist_runtime import Store

from tests import dbs

DIALECTS = [
    pytest.param("sqlite", id="sqlite"),
    pytest.param("postgres", id="postgres", marks=pytest.mark.db),
    pytest.param("mysql", id="mysql", marks=pytest.mark.db),
]


@contextmanager
def generated_package(source: Path, out: Path, name: str) -> Iterator[ModuleType]:
    """Generate ``source`` into a package under ``out`` with the command line, as a user
    would, and yield it imported (``name`` and a random suffix keep sessions apart)."""
    package = f"{name}_{uuid.uuid4().hex[:8]}"
    command = [sys.executable, "-m", "persist_tool", "generate", "entity", str(source)]
    done = subprocess.run(
        [*command, "-o", str(out / package)],
        cwd=source.parent,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr + done.stdout
    sys.path.insert(0, str(out))
    try:
        yield importlib.import_module(package)
    finally:
        sys.path.remove(str(out))


_NO_PARAMS: Any = object()


class RecordingCursor:
    """A cursor that records every statement it is asked to execute."""

    def __init__(self, cursor: Any, log: list[str]) -> None:
        self._cursor = cursor
        self._log = log

    def execute(self, sql: str, params: Any = _NO_PARAMS) -> Any:
        self._log.append(sql)
        # Called as the store calls it: DDL goes without parameters, so that drivers that
        # substitute them (psycopg, PyMySQL) leave a ``%`` in a CHECK alone.
        if params is _NO_PARAMS:
            return self._cursor.execute(sql)
        return self._cursor.execute(sql, params)

    def executemany(self, sql: str, rows: Any) -> Any:
        self._log.append(sql)
        return self._cursor.executemany(sql, rows)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)


class RecordingConnection:
    """A DB-API connection wrapper whose cursors record the SQL actually sent."""

    def __init__(self, connection: Any) -> None:
        self._connection = connection
        self.statements: list[str] = []

    def cursor(self) -> RecordingCursor:
        return RecordingCursor(self._connection.cursor(), self.statements)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._connection, name)


@pytest.fixture(params=DIALECTS)
def dialect(request: pytest.FixtureRequest) -> str:
    """The dialect under test."""
    return str(request.param)


@pytest.fixture
def raw_connection(dialect: str) -> Iterator[Any]:
    """A connection to a private database of the dialect under test."""
    if dialect == "sqlite":
        import sqlite3

        conn = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        try:
            yield conn
        finally:
            conn.close()
    elif dialect == "postgres":
        with dbs.postgres_connection() as conn:
            yield conn
    else:
        with dbs.mysql_connection() as conn:
            yield conn


@pytest.fixture
def recorder(raw_connection: Any) -> RecordingConnection:
    """The connection, wrapped to record statements."""
    return RecordingConnection(raw_connection)


@pytest.fixture
def store(recorder: RecordingConnection, dialect: str) -> Store:
    """A store over the recording connection."""
    return Store.connect(recorder, dialect)
