"""The few SQL spellings that differ between SQLite and PostgreSQL, and running a query with them.

Metrics are written once as SQL text with ``?`` placeholders and these fragments; every figure is
computed by the database, grouped on indexed columns.
"""
from __future__ import annotations

import datetime as dt
from typing import Any, Sequence

import peewee

from workdesk import db

UTC = dt.timezone.utc


def is_postgres() -> bool:
    return isinstance(db.obj, peewee.PostgresqlDatabase)


def epoch(column: str) -> str:
    """Seconds since 1970 of a stored (naive UTC) timestamp column."""
    if is_postgres():
        return f"EXTRACT(EPOCH FROM {column})"
    return f"((julianday({column}) - 2440587.5) * 86400.0)"


def json_value(column: str, key: str, index: int, integer: bool = False) -> str:
    """``changes[key][index]`` of an audit-trail row (``index`` 0: old value, 1: new value)."""
    if is_postgres():
        text = f"({column}->'{key}'->>{index})"
        return f"CAST({text} AS INTEGER)" if integer else text
    return f"json_extract({column}, '$.{key}[{index}]')"


def has_key(column: str, key: str) -> str:
    """The audit-trail row changes ``key``."""
    if is_postgres():
        return f"({column}->'{key}') IS NOT NULL"
    # SQLite parses the JSON text on every call: a plain substring test first spares that work for the
    # rows that cannot have the key (comments, watchers...); json_type still decides for the others.
    return f"(instr({column}, '\"{key}\"') > 0 AND json_type({column}, '$.{key}') IS NOT NULL)"


def unindexed(column: str) -> str:
    """``column`` in a condition the planner must not answer from the column's own index: for a trail
    read task by task (``task_id IN (...)``), a range on ``at`` reaching back to the first event would
    otherwise make SQLite walk every event of the period's past. (PostgreSQL weighs both itself.)"""
    return column if is_postgres() else f"+{column}"


def stored(instant: dt.datetime) -> dt.datetime:
    """An aware instant as the naive UTC value timestamp columns hold."""
    return instant.astimezone(UTC).replace(tzinfo=None)


def subquery(query: peewee.Query) -> tuple[str, list[Any]]:
    """A peewee query as SQL text with ``?`` placeholders, and its parameters."""
    text, params = query.sql()
    if is_postgres():
        text = text.replace("%s", "?")
    return text, list(params)


def run(text: str, params: Sequence[Any] = ()) -> list[tuple]:
    """Run SQL written with ``?`` placeholders on either database; all rows."""
    values = [stored(p) if isinstance(p, dt.datetime) else p for p in params]
    if is_postgres():
        text = text.replace("%", "%%").replace("?", "%s")
        # PostgreSQL compiles a query it estimates costly (the working-time lookups, one per task, look
        # costly) with LLVM first: half a second per query, more than the query itself takes at a
        # million audit rows. Off for these reads only (SET LOCAL ends with the transaction).
        with db.atomic():
            db.execute_sql("SET LOCAL jit = off")
            return list(db.execute_sql(text, values).fetchall())
    return list(db.execute_sql(text, values).fetchall())


def bucket_case(column: str, edges: Sequence[dt.datetime]) -> tuple[str, list[Any]]:
    """``CASE`` giving the index of the bucket ``[edges[i], edges[i+1])`` holding ``column`` (NULL outside)."""
    parts, params = [f"WHEN {column} < ? THEN NULL"], [edges[0]]
    for index, edge in enumerate(edges[1:]):
        parts.append(f"WHEN {column} < ? THEN {index}")
        params.append(edge)
    return "CASE " + " ".join(parts) + " END", params


def case_map(column: str, mapping: dict[int, int]) -> str:
    """``CASE column WHEN key THEN value ... END`` over integer literals (NULL for other keys)."""
    if not mapping:
        return "NULL"
    return f"CASE {column} " + " ".join(f"WHEN {int(k)} THEN {int(v)}" for k, v in mapping.items()) + " END"


def execute(text: str, params: Sequence[Any] = ()) -> None:
    """Run a statement that returns no rows (INSERT, DELETE, DDL), written with ``?`` placeholders."""
    if is_postgres():
        text = text.replace("%", "%%").replace("?", "%s")
    db.execute_sql(text, [stored(p) if isinstance(p, dt.datetime) else p for p in params])
