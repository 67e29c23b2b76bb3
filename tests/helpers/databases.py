"""The databases a test run uses: its PostgreSQL schema (or SQLite file) and its Redis database for rate limits."""

from __future__ import annotations

import os

from sqlalchemy import create_engine, text


def postgres_url(base: str, schema: str) -> str:
    """A psycopg URL for the server at `base` whose search_path is `schema`."""
    url = base
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            url = "postgresql+psycopg://" + url[len(prefix):]
    separator = "&" if "?" in url else "?"
    return f"{url}{separator}options=-csearch_path%3D{schema}"


def postgres_base_url() -> str | None:
    """The PostgreSQL server the suite runs against, or None for the SQLite run."""
    return os.environ.get("TEST_DATABASE_URL") or None


def make_schema(base: str, schema: str) -> str:
    """(Re)create an empty PostgreSQL schema and return a URL whose search_path is that schema."""
    engine = create_engine(postgres_url(base, "public"))
    try:
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    finally:
        engine.dispose()
    return postgres_url(base, schema)


def drop_schema(base: str, schema: str) -> None:
    """Remove a test schema and everything in it."""
    engine = create_engine(postgres_url(base, "public"))
    try:
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    finally:
        engine.dispose()


def rate_limit_storage(url: str) -> str:
    """The Redis database of this test process's rate limits: the next one down for each parallel worker.

    Each test empties the limiter's keys; two workers sharing a database would empty each other's.
    """
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if not url.startswith("redis://") or not worker.startswith("gw"):
        return url
    base, _, number = url.rpartition("/")
    return f"{base}/{int(number or 0) - int(worker[2:])}"
