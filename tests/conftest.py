"""Shared fixtures: database connections, each test in its own schema/database."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests import dbs

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"
FIXTURES = ROOT / "fixtures"


@pytest.fixture
def sqlite_conn() -> Iterator[sqlite3.Connection]:
    """An in-memory SQLite connection."""
    conn = sqlite3.connect(":memory:")
    try:
        yield conn
    finally:
        conn.close()


@pytest.fixture
def pg_conn() -> Iterator[Any]:
    """A psycopg connection in a private schema (fails under CI when unreachable)."""
    with dbs.postgres_connection() as conn:
        yield conn


@pytest.fixture
def mysql_conn() -> Iterator[Any]:
    """A PyMySQL connection to a private database (fails under CI when unreachable)."""
    with dbs.mysql_connection() as conn:
        yield conn


@pytest.fixture(scope="session")
def corpus() -> Path:
    """The external corpus directory (``../shared/corpus``)."""
    if not CORPUS.is_dir():
        pytest.fail(f"external corpus not found at {CORPUS}")
    return CORPUS
