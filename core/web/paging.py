"""Keyset ("cursor") pages for the server-rendered lists: my work, the department queue and search.

The JSON API pages with ``workdesk.api.keyset_page`` / ``visible_task_page``. Both walk one unique key,
the task id, newest first, and their cursor is that id. The pages cannot reuse them without giving
up their orders, which people rely on: my work by due date, the queue overdue-then-urgent-then-
oldest, search by last change. So a page cursor here is the *position in the page's own order*: the
values of every sort key of the row at the page's edge, ending with the id so that positions are
unique. The principle is the API's: the next page is ``WHERE (keys) come after the position``
plus ``LIMIT``, never an ``OFFSET``, so page 1000 costs what page 1 costs (the database narrows and
orders the same filtered tasks for each, and stops after one page).

A cursor also carries ``as_of``, the moment its first page was shown: an order that depends on the
time (the queue's "overdue first") is computed against that moment on every page, so a task that
falls due while someone pages through is neither shown twice nor skipped.

Cursors are not secret and not signed: a hand-made cursor can only move the position within a list
its user may see anyway (visibility is part of every page's query). A malformed one is an
:class:`InvalidCursor` (400), answered with a friendly page that links back to the list's start.
"""
from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import operator
from dataclasses import dataclass
from functools import reduce
from typing import Any, Callable

import peewee
from flask import request, url_for
from flask_babel import gettext as _

from ..db import utcnow
from ..errors import BadRequest
from ..schemas import MAX_ID

CURSOR_PARAMETERS = ("after", "before")
MAX_CURSOR_LENGTH = 600  # far above any real cursor: a longer one is not decoded at all


class InvalidCursor(BadRequest):
    """A page link whose cursor this app did not hand out (truncated, edited, or from another list).

    ``first_url`` is the first page of the list, filters kept: where the error page points.
    """

    def __init__(self, message: str, first_url: str):
        super().__init__(message)
        self.first_url = first_url


@dataclass(frozen=True)
class SortKey:
    """One term of a list's order.

    :param expression: a column, or an expression over the task's columns (a ``Case``).
    :param descending: largest first.
    :param nullable: the expression can be NULL; NULLs come after every value.
    :param kind: how the value travels in a cursor: ``int`` or ``datetime.datetime``.
    """
    expression: Any
    descending: bool = False
    nullable: bool = False
    kind: type = int


@dataclass(frozen=True)
class PagedList:
    """A list shown in pages.

    :param name: written into its cursors, so that one list's cursor is refused by another.
    :param endpoint: the list's view; its page links lead there (also when another view renders
        the list, as quick create does on an error).
    :param keys_at: the order as of a moment (the first page's): the sort keys, the last one unique
        and never NULL (the task id).
    """
    name: str
    endpoint: str
    keys_at: Callable[[dt.datetime], tuple[SortKey, ...]]


@dataclass(frozen=True)
class Position:
    """Where a page starts: just after (or, ``backward``, just before) the row whose keys are ``values``."""
    as_of: dt.datetime
    values: tuple
    backward: bool = False


@dataclass
class Page:
    """One page of a list and the links to the pages around it (None where there is none)."""
    rows: list
    first_url: str | None = None
    previous_url: str | None = None
    next_url: str | None = None


# -- cursors ------------------------------------------------------------------------------------

def _encode_value(value: Any) -> Any:
    return value.isoformat() if isinstance(value, dt.datetime) else value


def _decode_value(raw: Any, kind: type, nullable: bool) -> Any:
    if raw is None and nullable:
        return None
    if kind is int and type(raw) is int and 0 <= raw <= MAX_ID:
        return raw
    if kind is dt.datetime and isinstance(raw, str):
        value = dt.datetime.fromisoformat(raw)  # ValueError for anything but an ISO date and time
        if value.tzinfo is None:
            raise ValueError(raw)
        return value.astimezone(dt.timezone.utc)
    raise ValueError(raw)


def encode_cursor(list_name: str, as_of: dt.datetime, values: tuple) -> str:
    payload = json.dumps([list_name, as_of.isoformat(), *map(_encode_value, values)], separators=(",", ":"))
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, paged: PagedList, backward: bool) -> Position:
    """The position a cursor of the list ``paged`` stands for; :class:`InvalidCursor` for anything else."""
    keys = paged.keys_at(utcnow())  # only the shape of the order matters here
    try:
        if len(cursor) > MAX_CURSOR_LENGTH:
            raise ValueError("too long")
        payload = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        if not (isinstance(payload, list) and len(payload) == len(keys) + 2 and payload[0] == paged.name):
            raise ValueError("not a cursor of this list")
        as_of = _decode_value(payload[1], dt.datetime, nullable=False)
        values = tuple(_decode_value(raw, key.kind, key.nullable) for raw, key in zip(payload[2:], keys))
    # JSON and Unicode errors are ValueErrors; OverflowError: a time zone shifting year 1 or 9999 out of range.
    except (ValueError, TypeError, OverflowError, binascii.Error, RecursionError):
        raise InvalidCursor(_("This page link is broken or out of date. Start again from the first page."),
                            first_url=_link(paged.endpoint)) from None
    return Position(as_of=as_of, values=values, backward=backward)


def requested_position(paged: PagedList) -> Position | None:
    """The position the request's ``after`` or ``before`` parameter asks for; None for the first page."""
    for name in CURSOR_PARAMETERS:
        cursor = request.args.get(name)
        if cursor is not None:
            return decode_cursor(cursor, paged, backward=(name == "before"))
    return None


# -- queries ------------------------------------------------------------------------------------

def _value_alias(index: int) -> str:
    return f"page_key_{index}"


def _row_values(row: Any, keys: tuple[SortKey, ...]) -> tuple:
    return tuple(getattr(row, key.expression.name if isinstance(key.expression, peewee.Field) else _value_alias(i))
                 for i, key in enumerate(keys))


def _step_beyond(key: SortKey, value: Any, backward: bool):
    """The condition "this key lies beyond ``value``" in the walking direction; None when nothing can."""
    expression = key.expression
    if value is None:  # NULLs are last: nothing follows them, every value precedes them
        return expression.is_null(False) if backward else None
    larger = key.descending == backward
    beyond = expression > value if larger else expression < value
    if key.nullable and not backward:
        beyond = beyond | expression.is_null()
    return beyond


def _beyond(keys: tuple[SortKey, ...], values: tuple, backward: bool):
    """Rows strictly after (``backward``: before) ``values`` in the lexicographic order of ``keys``."""
    alternatives, equal_so_far = [], []
    for key, value in zip(keys, values):
        step = _step_beyond(key, value, backward)
        if step is not None:
            alternatives.append(reduce(operator.and_, [*equal_so_far, step]))
        equal_so_far.append(key.expression.is_null() if value is None else key.expression == value)
    return reduce(operator.or_, alternatives)


def _ordering(keys: tuple[SortKey, ...], backward: bool) -> list:
    ordering = []
    for key in keys:
        descending = key.descending != backward
        nulls = ("FIRST" if backward else "LAST") if key.nullable else None
        ordering.append(key.expression.desc(nulls=nulls) if descending else key.expression.asc(nulls=nulls))
    return ordering


def _fetch(query: peewee.ModelSelect, keys: tuple[SortKey, ...], size: int, position: Position | None) -> list:
    computed = [key.expression.alias(_value_alias(i)) for i, key in enumerate(keys)
                if not isinstance(key.expression, peewee.Field)]
    if computed:
        query = query.select_extend(*computed)
    if position is not None:
        query = query.where(_beyond(keys, position.values, position.backward))
    backward = position is not None and position.backward
    return list(query.order_by(*_ordering(keys, backward)).limit(size + 1))


def _link(endpoint: str, cursor_parameter: str | None = None, cursor: str | None = None) -> str:
    """The list's URL with the request's filters kept and the cursor replaced."""
    args = {name: value for name, value in request.args.items() if name not in CURSOR_PARAMETERS}
    if cursor_parameter:
        args[cursor_parameter] = cursor
    return url_for(endpoint, **args)


def keyset_list_page(query: peewee.ModelSelect, paged: PagedList, size: int, position: Position | None) -> Page:
    """One page of ``query`` in the order of ``paged`` from ``position``, with its links.

    A position that no longer has rows on its side (everything there was closed or deleted since)
    gives the first page.
    """
    as_of = position.as_of if position is not None else utcnow()
    keys = paged.keys_at(as_of)
    rows = _fetch(query, keys, size, position)
    if position is not None and (not rows or (position.backward and len(rows) <= size)):
        # Walking back reached the start: show the first page whole rather than a short one.
        return keyset_list_page(query, paged, size, None)
    more = len(rows) > size
    rows = rows[:size]
    if position is not None and position.backward:
        rows.reverse()
    page = Page(rows=rows)

    def cursor_at(row) -> str:
        return encode_cursor(paged.name, as_of, _row_values(row, keys))

    # Walking back, the page we came from lies ahead; walking forward, the one we came from lies behind.
    has_next = True if position is not None and position.backward else more
    if position is not None:
        page.first_url = _link(paged.endpoint)
        page.previous_url = _link(paged.endpoint, "before", cursor_at(rows[0]))
    if has_next:
        page.next_url = _link(paged.endpoint, "after", cursor_at(rows[-1]))
    return page


__all__ = ["SortKey", "PagedList", "Position", "Page", "InvalidCursor", "encode_cursor", "decode_cursor",
           "requested_position", "keyset_list_page"]
