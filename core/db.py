"""The database handle, the model base class and transactions that behave the same on SQLite and PostgreSQL."""
from __future__ import annotations

import datetime as dt
import itertools
import json
from contextlib import contextmanager
from typing import Callable, Iterable, Iterator, Sequence, TypeVar
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

    # Both directions run once per column of every row read or written, so the common cases take the
    # shortest path: peewee's own conversion tries strptime with one format after another.

    def db_value(self, value):
        if type(value) is dt.datetime:
            if value.tzinfo is dt.timezone.utc:
                return value.replace(tzinfo=None)
            if value.tzinfo is None:
                return value
            return value.astimezone(dt.timezone.utc).replace(tzinfo=None)
        if value is None:
            return None
        return super().db_value(value)

    def python_value(self, value):
        if value is None:
            return None
        if type(value) is str:
            try:
                value = dt.datetime.fromisoformat(value)
            except ValueError:
                value = super().python_value(value)
        elif value is not None and type(value) is not dt.datetime:
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
        from .search import register_fold  # the search index's triggers call it on every connection
        register_fold(database)
    elif scheme in ("postgresql", "postgres"):
        database = connect_url(url.replace("postgres://", "postgresql://", 1), autorollback=True)
    else:
        raise ValueError(f"unsupported database URL scheme {scheme!r}")
    db.initialize(database)
    return database


# SQLite's messages for a database another process holds or the file system refuses: the request may
# succeed in a moment. Anything else SQLite calls "operational" (no such table, ...) is a bug, not an outage.
_SQLITE_UNAVAILABLE = ("database is locked", "database table is locked", "unable to open database file",
                       "disk i/o error", "database or disk is full")


def database_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` means the database cannot be reached or used right now (a server restarting, a
    dropped connection, a locked SQLite file), so the request should be retried rather than reported as
    a bug."""
    if isinstance(exc, peewee.InterfaceError):
        return True
    if not isinstance(exc, peewee.OperationalError):
        return False
    if is_sqlite():
        return any(text in str(exc).lower() for text in _SQLITE_UNAVAILABLE)
    return True  # psycopg's OperationalError: the connection or the server, never the SQL


def discard_connection() -> None:
    """Forget this thread's connection after the server dropped it, so the next request opens a new one."""
    try:
        if db.transaction_depth() > 0:
            db.rollback()
    except Exception:  # the connection is gone: nothing to roll back
        pass
    try:
        db.close()
    except Exception:  # peewee refuses to close a connection whose transaction it could not end
        db._state.reset()


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


_SQL_CACHE: dict[tuple[object, type], str] = {}
_COLUMNS: dict[tuple[str, type], list] = {}


def hot_query(model: type[peewee.Model], name: str, build: Callable[[], peewee.Query], *params) -> list:
    """Run a query that sits on every request with its SQL generated once per database type; its rows
    as ``model`` instances (:func:`models_from_rows`, each column on the field it belongs to).

    Generating SQL costs peewee more than SQLite takes to answer a primary-key lookup, and so does
    peewee's reading of a raw query's rows, so the few queries run on every request are compiled once
    and read directly. ``build`` returns the query with placeholder values; ``params`` are the real
    values in the same order.
    """
    key = (name, type(db.obj))
    cursor = db.execute_sql(sql_once(name, lambda: build().sql()[0]), params)
    rows = cursor.fetchall()  # to the end: SQLite finishes an UPDATE ... RETURNING only when stepped there
    if not rows:
        return []
    fields = _COLUMNS.get(key)
    if fields is None:  # a column no field owns (an expression's alias) keeps its name and value
        fields = _COLUMNS[key] = [model._meta.columns.get(column[0], column[0]) for column in cursor.description]
    return models_from_rows(model, fields, rows)


def sql_once(key: object, write: Callable[[], str]) -> str:
    """The SQL text ``write()`` returns, written once per database type and ``key``: for statements run on
    every request, where building the text costs more than the database takes to answer it."""
    full_key = (key, type(db.obj))
    sql = _SQL_CACHE.get(full_key)
    if sql is None:
        sql = _SQL_CACHE[full_key] = write()
    return sql


def quoted(name: str) -> str:
    """A table or column name quoted for this database."""
    return f"{db.obj.quote[0]}{name}{db.obj.quote[1]}"


def columns_of(model: type[peewee.Model], alias: str = "") -> str:
    """The quoted columns of ``model``'s fields in their order (``model._meta.sorted_fields``), ``alias.``
    before each: a hand-written SELECT whose rows :func:`models_from_rows` reads."""
    prefix = f"{alias}." if alias else ""
    return ", ".join(f"{prefix}{quoted(field.column_name)}" for field in model._meta.sorted_fields)


def models_from_rows(model: type[peewee.Model], fields: Sequence[peewee.Field | str] | None,
                     rows: Sequence[Sequence[object]]) -> list[peewee.Model]:
    """Rows as instances of ``model``, as peewee would load them, built directly: peewee converts each value
    with a call and sets each field through its descriptor (then clears the dirty marks), which costs more
    than the query for a page of rows and several times the reading for thousands. A plain column whose
    values already have its type is taken as it is (:func:`_converted`), any other goes through its field's
    ``python_value``; no field is dirty, so ``update_rows`` and ``save()`` work as on any loaded instance.

    :param fields: the field of each column (a name: a value no field owns, set as read); None for every
        field of the model in order (:func:`columns_of`).
    """
    fields = model._meta.sorted_fields if fields is None else fields
    columns = [_converted(field, field.python_value, list(values)) if isinstance(field, peewee.Field)
               else list(values) for field, values in zip(fields, zip(*rows))]
    names = [field.name if isinstance(field, peewee.Field) else field for field in fields]
    instances = []
    for values in zip(*columns):
        instance = model(__no_default__=True)
        instance.__data__ = dict(zip(names, values))
        instances.append(instance)
    return instances


def in_ids(column: str, ids: Iterable[int]) -> tuple[str, object]:
    """``column`` among ``ids`` as one bound parameter, whatever their number: the SQL condition (the same
    text for every call, so a caller can keep its statement) and the value to bind. SQLite reads a JSON
    array with ``json_each``, PostgreSQL an array with ``ANY``."""
    numbers = [int(i) for i in ids]
    if is_sqlite():
        return f"{column} IN (SELECT value FROM json_each({db.obj.param}))", json.dumps(numbers)
    return f"{column} = ANY({db.obj.param})", numbers


# Bound parameters one statement may carry: SQLite's SQLITE_MAX_VARIABLE_NUMBER (32766 since 3.32);
# PostgreSQL allows 65535. Multi-row inserts are chunked under the smaller.
MAX_BOUND_PARAMETERS = 32766


def insert_rows(model: type[peewee.Model], rows: list[dict[str, object]], returning: tuple[peewee.Field, ...] = (),
                conflict: tuple[tuple[peewee.Field, ...], tuple[peewee.Field, ...]] | None = None) -> list[tuple]:
    """Insert ``rows`` (dicts keyed by field name, all of one shape) with multi-row INSERTs chunked under
    the bound-parameter limit; returns the ``returning`` columns of every row when asked. ``conflict``
    is ``(unique columns, columns to overwrite)``: a row whose unique columns exist updates that row
    instead (an upsert, on SQLite and PostgreSQL alike), or is left alone when no column is to be overwritten.

    The SQL is written once per chunk by hand: peewee builds an expression object per value, which
    for thousands of rows costs several times what the database spends inserting them. Values still
    pass through each field's ``db_value`` and missing fields get their model defaults.
    """
    if not rows:
        return []
    meta = model._meta
    names = list(rows[0])
    defaults = {field.name: value for field, value in meta.defaults.items() if field.name not in names}
    fields = [meta.fields[name] for name in names] + [meta.fields[name] for name in defaults]
    column_list = ", ".join(quoted(field.column_name) for field in fields)
    suffix = ""
    if conflict is not None:
        target, overwrite = conflict
        suffix = (" ON CONFLICT (" + ", ".join(quoted(f.column_name) for f in target) + ") "
                  + ("DO UPDATE SET " + ", ".join(f"{quoted(f.column_name)} = "
                                                  f"excluded.{quoted(f.column_name)}" for f in overwrite)
                     if overwrite else "DO NOTHING"))
    if returning:
        suffix += " RETURNING " + ", ".join(quoted(field.column_name) for field in returning)
    converters = [_bound_value(field) for field in fields]
    row_placeholder = "(" + ", ".join(placeholder for placeholder, _convert in converters) + ")"
    per_statement = max(1, MAX_BOUND_PARAMETERS // len(fields))
    found: list[tuple] = []
    for start in range(0, len(rows), per_statement):  # (peewee.chunked pads every chunk to full size)
        chunk = rows[start:start + per_statement]
        columns = []
        for field, (_placeholder, convert) in zip(fields, converters):
            if field.name in defaults:
                default = defaults[field.name]
                values = [default() for _row in chunk] if callable(default) else [default] * len(chunk)
            else:
                values = [row[field.name] for row in chunk]
            columns.append(_converted(field, convert, values))
        params = list(itertools.chain.from_iterable(zip(*columns)))  # row by row
        sql = (f"INSERT INTO {quoted(meta.table_name)} ({column_list}) VALUES "
               + ", ".join([row_placeholder] * len(chunk)) + suffix)
        cursor = db.execute_sql(sql, params)
        if returning:
            found.extend(tuple(field.python_value(v) for field, v in zip(returning, record))
                         for record in cursor.fetchall())
    return found


def load_rows(query: peewee.ModelSelect) -> list[peewee.Model]:
    """The model instances of a select of one model's fields, as ``list(query)`` gives them, read by
    :func:`models_from_rows`. A select of anything but the model's own fields is read the usual way."""
    model = query.model
    fields = query.selected_columns
    if not all(type(f) is not peewee.FieldAlias and isinstance(f, peewee.Field) and f.model is model for f in fields):
        return list(query)
    return models_from_rows(model, fields, model._meta.database.execute_sql(*query.sql()).fetchall())


def update_rows(instances: list[peewee.Model], fields: Iterable[peewee.Field]) -> None:
    """Write ``fields`` of many loaded rows of one model: one prepared UPDATE by primary key, run for every
    row at once (the driver's ``executemany``), instead of a ``save()`` whose SQL is built per row."""
    fields = [field for field in fields if not field.primary_key]
    if not instances or not fields:
        return
    model = type(instances[0])
    pk = model._meta.primary_key
    bound = [_bound_value(field) for field in fields]
    assignments = ", ".join(f"{quoted(field.column_name)} = {placeholder}"
                            for field, (placeholder, _convert) in zip(fields, bound))
    sql = (f"UPDATE {quoted(model._meta.table_name)} SET {assignments} "
           f"WHERE {quoted(pk.column_name)} = {db.obj.param}")
    columns = [_converted(field, convert, [instance.__data__.get(field.name) for instance in instances])
               for field, (_p, convert) in zip(fields, bound)]
    columns.append(_converted(pk, pk.db_value, [instance.get_id() for instance in instances]))
    params = list(zip(*columns))  # row by row
    cursor = db.cursor()
    with peewee.__exception_wrapper__:
        cursor.executemany(sql, params)
    for instance in instances:
        instance._dirty.clear()


# Columns of these exact types whose values already have the column's Python type (or are NULL): their
# ``db_value`` and ``python_value`` return such values as they are, so the column needs no call per value.
_PLAIN_TYPES: dict[type, type] = {peewee.AutoField: int, peewee.BigAutoField: int, peewee.IntegerField: int,
                                  peewee.BigIntegerField: int, peewee.SmallIntegerField: int, peewee.CharField: str,
                                  peewee.TextField: str, peewee.BooleanField: bool, peewee.FloatField: float,
                                  peewee.DoubleField: float}


def _converted(field: peewee.Field, convert: Callable[[object], object], values: list) -> list:
    """One column's values through ``convert`` (the field's ``db_value`` or ``python_value``), or as they are
    when that would change nothing (a plain column whose values are all of its type or None)."""
    plain = _PLAIN_TYPES.get(type(field.rel_field if type(field) is peewee.ForeignKeyField else field))
    if plain is not None and set(map(type, values)) <= {plain, type(None)}:
        return values
    return list(map(convert, values))


def _bound_value(field: peewee.Field) -> tuple[str, Callable[[object], object]]:
    """The placeholder and the Python-to-database conversion of one column in a hand-written INSERT."""
    if isinstance(field, peewee.JSONField) and is_sqlite():
        # peewee wraps JSON values in json(...) on SQLite so that they are stored JSON-typed.
        return f"json({db.obj.param})", lambda value: None if value is None else field._dumps(value)
    return db.obj.param, field.db_value  # plain columns convert to plain values


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
