"""Database servers for tests: addresses, reachability, and one private database per test.

Addresses come from ``PERSIST_TEST_POSTGRES_DSN`` / ``PERSIST_TEST_MYSQL_DSN``. A server that
cannot be reached skips the test on a developer machine and fails it when ``CI`` is set.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlparse

import pytest

POSTGRES_DSN = os.environ.get(
    "PERSIST_TEST_POSTGRES_DSN", "postgresql://postgres@127.0.0.1:5432/test"
)
MYSQL_DSN = os.environ.get("PERSIST_TEST_MYSQL_DSN", "mysql://root@127.0.0.1:3306/test")


def _unavailable(what: str, error: BaseException) -> None:
    message = f"{what} unreachable: {error}"
    if os.environ.get("CI"):
        pytest.fail(f"{message} (CI is set: database tests must run, not skip)")
    pytest.skip(message)


def _mysql_params(dsn: str) -> dict[str, Any]:
    url = urlparse(dsn)
    return {
        "host": url.hostname or "127.0.0.1",
        "port": url.port or 3306,
        "user": url.username or "root",
        "password": url.password or "",
        "database": (url.path or "/test").lstrip("/") or "test",
    }


def unique_name(prefix: str) -> str:
    """Return a fresh lower-case identifier for a private schema or database."""
    return f"{prefix}_{uuid.uuid4().hex[:12]}"


@contextmanager
def postgres_connection(*, autocommit: bool = False) -> Iterator[Any]:
    """Yield a psycopg connection whose ``search_path`` is a fresh schema, dropped afterwards."""
    try:
        import psycopg
    except ImportError as error:  # pragma: no cover - extras are installed by the test command
        _unavailable("psycopg", error)
    try:
        admin = psycopg.connect(POSTGRES_DSN, autocommit=True, connect_timeout=5)
    except Exception as error:
        _unavailable(f"PostgreSQL at {POSTGRES_DSN}", error)
    schema = unique_name("pt")
    admin.execute(f'CREATE SCHEMA "{schema}"')
    conn = psycopg.connect(POSTGRES_DSN, autocommit=autocommit, options=f"-c search_path={schema}")
    try:
        yield conn
    finally:
        conn.close()
        admin.execute(f'DROP SCHEMA "{schema}" CASCADE')
        admin.close()


def postgres_dsn_for_schema(schema: str) -> str:
    """Return a libpq connection string selecting ``schema`` (for other processes)."""
    return f"{POSTGRES_DSN}?options=-csearch_path%3D{schema}"


@contextmanager
def mysql_connection(*, autocommit: bool = False) -> Iterator[Any]:
    """Yield a PyMySQL connection to a fresh database, dropped afterwards."""
    try:
        import pymysql
    except ImportError as error:  # pragma: no cover
        _unavailable("PyMySQL", error)
    params = _mysql_params(MYSQL_DSN)
    try:
        admin = pymysql.connect(
            host=params["host"],
            port=params["port"],
            user=params["user"],
            password=params["password"],
            autocommit=True,
            connect_timeout=5,
        )
    except Exception as error:
        _unavailable(f"MariaDB/MySQL at {MYSQL_DSN}", error)
    database = unique_name("pt")
    with admin.cursor() as cur:
        cur.execute(f"CREATE DATABASE `{database}` CHARACTER SET utf8mb4")
    conn = pymysql.connect(
        host=params["host"],
        port=params["port"],
        user=params["user"],
        password=params["password"],
        database=database,
        autocommit=autocommit,
        charset="utf8mb4",
    )
    try:
        yield conn
    finally:
        conn.close()
        with admin.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS `{database}`")
        admin.close()


def mysql_params_for(conn: Any) -> dict[str, Any]:
    """Return connection keyword arguments reaching the same database as ``conn``."""
    params = _mysql_params(MYSQL_DSN)
    params["database"] = conn.db.decode() if isinstance(conn.db, bytes) else conn.db
    return params
