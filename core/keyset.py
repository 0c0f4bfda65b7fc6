"""Keyset paging over any order of tasks: the one engine behind the API's task lists and the pages' lists.

An order is a tuple of :class:`SortKey` ending with the task id, so that every position in it is
unique. A page is ``WHERE (keys) come after the position`` plus ``LIMIT``, never an ``OFFSET``, so
page 1000 costs what page 1 costs. A page is read in two steps: the ids and sort values of the page
(:func:`keyed_ids`), then the rows themselves by id, so that sort keys may come from a plugin's
joined table without being mapped onto the task rows.
"""
from __future__ import annotations

import datetime as dt
import functools
import operator
from dataclasses import dataclass
from functools import reduce
from typing import Any, Sequence

import peewee

from .models import Task
from .schemas import MAX_ID


@dataclass(frozen=True)
class SortKey:
    """One term of a list's order.

    :param expression: a column (of the task or of a joined table), or an expression over the task's
        columns (a ``Case``).
    :param descending: largest first.
    :param nullable: the expression can be NULL; NULLs come after every value, in either direction.
    :param kind: what the values are, and how they travel in a cursor: ``int`` (0 or more) or
        ``datetime.datetime``.
    """
    expression: Any
    descending: bool = False
    nullable: bool = False
    kind: type = int


def _bound(value: Any) -> Any:
    # Compared in SQL as stored: naive UTC (the form UTCDateTimeField writes), whatever the expression.
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.timezone.utc).replace(tzinfo=None)
    return value


def _step_beyond(key: SortKey, value: Any, backward: bool):
    """The condition "this key lies beyond ``value``" in the walking direction; None when nothing can."""
    expression = key.expression
    if value is None:  # NULLs are last: nothing follows them, every value precedes them
        return expression.is_null(False) if backward else None
    larger = key.descending == backward
    beyond = expression > _bound(value) if larger else expression < _bound(value)
    if key.nullable and not backward:
        beyond = beyond | expression.is_null()
    return beyond


def beyond(keys: Sequence[SortKey], values: Sequence[Any], backward: bool = False):
    """Rows strictly after (``backward``: before) ``values`` in the lexicographic order of ``keys``."""
    alternatives, equal_so_far = [], []
    for key, value in zip(keys, values):
        step = _step_beyond(key, value, backward)
        if step is not None:
            alternatives.append(reduce(operator.and_, [*equal_so_far, step]))
        equal_so_far.append(key.expression.is_null() if value is None else key.expression == _bound(value))
    return reduce(operator.or_, alternatives)


def ordering(keys: Sequence[SortKey], backward: bool = False) -> list:
    """ORDER BY terms for ``keys`` (reversed when walking backward), NULLs last in the list's order."""
    terms = []
    for key in keys:
        descending = key.descending != backward
        nulls = ("FIRST" if backward else "LAST") if key.nullable else None
        terms.append(key.expression.desc(nulls=nulls) if descending else key.expression.asc(nulls=nulls))
    return terms


def _coerce(value: Any, kind: type) -> Any:
    # A column of a joined table arrives converted; an expression may come back as SQLite's text.
    if kind is dt.datetime and isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    if isinstance(value, dt.datetime) and value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value


def keyed_ids(query: peewee.ModelSelect, keys: Sequence[SortKey], limit: int, position: Sequence[Any] | None = None,
              backward: bool = False) -> list[tuple[int, tuple]]:
    """``(task id, sort values)`` of the first ``limit`` tasks of ``query`` after ``position`` in the order
    of ``keys`` (before it, walking ``backward``; then nearest first)."""
    if position is not None:
        query = query.where(beyond(keys, position, backward))
    columns = [Task.id.alias("page_id"), *(key.expression.alias(f"page_key_{i}") for i, key in enumerate(keys))]
    rows = query.select(*columns).order_by(*ordering(keys, backward)).limit(limit).tuples()
    return [(row[0], tuple(_coerce(v, key.kind) for v, key in zip(row[1:], keys))) for row in rows]


def compare(keys: Sequence[SortKey], left: Sequence[Any], right: Sequence[Any]) -> int:
    """-1, 0 or 1: how two rows' sort values compare in the order of ``keys``, as the database orders them."""
    for key, a, b in zip(keys, left, right):
        if a == b:
            continue
        if a is None or b is None:
            return 1 if a is None else -1  # NULLs last either way
        result = -1 if a < b else 1
        return -result if key.descending else result
    return 0


def merge(keys: Sequence[SortKey], *pages: list[tuple[int, tuple]]) -> list[tuple[int, tuple]]:
    """Pages of :func:`keyed_ids` over overlapping sets, as one list in the order of ``keys``, each id once."""
    found = {task_id: values for page in pages for task_id, values in page}
    return sorted(found.items(), key=functools.cmp_to_key(lambda a, b: compare(keys, a[1], b[1])))


def rows_in_order(query: peewee.ModelSelect | None, ids: Sequence[int]) -> list:
    """The rows of ``query`` with these ids, in the order of ``ids``; ``None`` for whole tasks (the pages of
    every list), which are read by :func:`tasks_by_id`."""
    if not ids:
        return []
    if query is None:
        by_id = tasks_by_id(ids)
    else:
        by_id = {row.id: row for row in query.where(Task.id.in_(list(ids)))}
    return [by_id[task_id] for task_id in ids if task_id in by_id]


def tasks_by_id(ids: Sequence[int]) -> dict[int, Task]:
    """Whole tasks by id, for a page of a list: one statement, the ids bound as one parameter
    (:func:`workdesk.db.in_ids`), and each row made a model directly from its values.

    peewee builds an ``IN (?, ?, …)`` expression per request and a model field by field, which cost a list
    page more than the database takes to answer it.
    """
    from .db import columns_of, db, in_ids, models_from_rows, quoted, sql_once
    condition, bound = in_ids("id", ids)  # the condition's text is the same for any ids
    sql = sql_once("tasks_by_id", lambda: f"SELECT {columns_of(Task)} FROM {quoted(Task._meta.table_name)} "
                                          f"WHERE {condition}")
    return {task.id: task for task in models_from_rows(Task, None, db.execute_sql(sql, (bound,)).fetchall())}


def encode_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.datetime) else value


def decode_value(raw: Any, key: SortKey) -> Any:
    """A sort value from a cursor, checked against the key's kind; ValueError for anything else."""
    if raw is None and key.nullable:
        return None
    if key.kind is int and type(raw) is int and 0 <= raw <= MAX_ID:
        return raw
    if key.kind is dt.datetime and isinstance(raw, str):
        value = dt.datetime.fromisoformat(raw)  # ValueError for anything but an ISO date and time
        if value.tzinfo is None:
            raise ValueError(raw)
        return value.astimezone(dt.timezone.utc)
    raise ValueError(raw)


__all__ = ["SortKey", "beyond", "ordering", "keyed_ids", "compare", "merge", "rows_in_order", "tasks_by_id", "encode_value",
           "decode_value"]
