"""The database handle, the model base class and transactions that behave the same on SQLite and PostgreSQL."""
from __future__ import annotations

import datetime as dt
from contextlib import contextmanager
from typing import Callable, Iterable, Iterator, TypeVar
from urllib.parse import urlparse

import peewee
from playhouse.db_url import connect as connect_url

from .files import prepare_sqlite_file

db = peewee.DatabaseProxy()
T = TypeVar("T")

SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "foreign_keys": 1,
    "busy_timeout": 10000,
    "synchronous": "normal",
}


def utcnow() -> dt.datetime:
    """The current instant as an aware UTC datetime (everything stored is UTC)."""
    return dt.datetime.now(dt.timezone.utc)


class UTCDateTimeField(peewee.DateTimeField):
    """Stores naive UTC, hands out aware UTC datetimes."""

    def db_value(self, value):
        if isinstance(value, dt.datetime) and value.tzinfo is not None:
            value = value.astimezone(dt.timezone.utc).replace(tzinfo=None)
        return super().db_value(value)

    def python_value(self, value):
        value = super().python_value(value)
        if isinstance(value, dt.datetime) and value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        return value


class BaseModel(peewee.Model):
    """Base class for every Workdesk table, core and plugin alike."""

    class Meta:
        database = db
        legacy_table_names = False


def connect_database(url: str) -> peewee.Database:
    """Build a database from a URL and bind the shared proxy to it."""
    scheme = urlparse(url).scheme
    if scheme == "sqlite":
        prepare_sqlite_file(url)  # created 0600 before SQLite opens it (its -wal and -shm follow)
        database = connect_url(url, pragmas=SQLITE_PRAGMAS, timeout=10)
    elif scheme in ("postgresql", "postgres"):
        database = connect_url(url.replace("postgres://", "postgresql://", 1), autorollback=True)
    else:
        raise ValueError(f"unsupported database URL scheme {scheme!r}")
    db.initialize(database)
    return database


def is_sqlite() -> bool:
    return isinstance(db.obj, peewee.SqliteDatabase)


@contextmanager
def write_transaction() -> Iterator[None]:
    """A transaction for read-modify-write work.

    SQLite's default DEFERRED transaction fails at once with "database is locked" when two writers
    race; IMMEDIATE takes the write lock up front and so waits for the busy timeout instead.
    Nested calls become savepoints.
    """
    outermost = db.transaction_depth() == 0
    try:
        if is_sqlite() and outermost:
            with db.atomic("IMMEDIATE"):
                yield
        else:
            with db.atomic():
                yield
    finally:
        if outermost:
            for callback in TRANSACTION_END_CALLBACKS:
                callback()


# Called after the outermost write_transaction ends, committed or rolled back (the registry stores the
# plugin errors recorded meanwhile, so a refused change keeps the record of its cause).
TRANSACTION_END_CALLBACKS: list[Callable[[], None]] = []


_SQL_CACHE: dict[tuple[str, type], str] = {}


def hot_query(model: type[peewee.Model], name: str, build: Callable[[], peewee.Query], *params):
    """Run a query that sits on every request with its SQL generated once per database type.

    Generating SQL costs peewee more than SQLite takes to answer a primary-key lookup, so the few
    queries run on every request are compiled once. ``build`` returns the query with placeholder
    values; ``params`` are the real values in the same order.
    """
    key = (name, type(db.obj))
    sql = _SQL_CACHE.get(key)
    if sql is None:
        sql = _SQL_CACHE[key] = build().sql()[0]
    return model.raw(sql, *params)


def after_commit(fn) -> None:
    """Run ``fn`` once the outermost transaction commits (at once when none is open)."""
    db.obj.after_commit(fn)


def for_each_in_transaction(items: Iterable[T], handle: Callable[[T], object]) -> int:
    """Call ``handle(item)`` for each item, each call in its own write transaction; return how many ran.

    Periodic jobs and event handlers run outside any transaction. Reading every item first (the
    iterable is consumed before the first write) keeps no cursor open while writing, which SQLite
    answers with "database is locked"; one transaction per item keeps each unit of work whole and
    holds the write lock only briefly. An exception rolls back the item that raised and propagates;
    the items before it stay committed.
    """
    pending = list(items)
    for item in pending:
        with write_transaction():
            handle(item)
    return len(pending)
