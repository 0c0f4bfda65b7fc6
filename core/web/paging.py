"""Keyset ("cursor") pages for the server-rendered lists: my work, the department queue, search and saved views.

The lists keep their own orders, which people rely on (my work by due date, the queue overdue-then-
urgent-then-oldest, search by last change), or take one of the catalogue's sorts (``?sort=-due``).
A page cursor is the *position in the list's order*: the values of every sort key of the row at
the page's edge, ending with the id so that positions are unique. The engine is the API's
(``workdesk.keyset``): the next page is ``WHERE (keys) come after the position`` plus ``LIMIT``,
never an ``OFFSET``, so page 1000 costs what page 1 costs. Pages also walk backward here.

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
from dataclasses import dataclass, field
from typing import Any, Callable

import peewee
from flask import request, url_for
from flask_babel import gettext as _

from ..db import utcnow
from ..errors import BadRequest
from ..keyset import SortKey, decode_value, encode_value, keyed_ids, rows_in_order

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
class PagedList:
    """A list shown in pages.

    :param name: written into its cursors, so that one list's cursor is refused by another.
    :param endpoint: the list's view; its page links lead there (also when another view renders
        the list, as quick create does on an error).
    :param keys_at: the order as of a moment (the first page's): the sort keys, the last one unique
        and never NULL (the task id).
    :param endpoint_values: the endpoint's URL values (a saved view's id).
    """
    name: str
    endpoint: str
    keys_at: Callable[[dt.datetime], tuple[SortKey, ...]]
    endpoint_values: dict[str, Any] = field(default_factory=dict)


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

def encode_cursor(list_name: str, as_of: dt.datetime, values: tuple) -> str:
    payload = json.dumps([list_name, as_of.isoformat(), *map(encode_value, values)], separators=(",", ":"))
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
        as_of = decode_value(payload[1], SortKey(None, kind=dt.datetime))
        values = tuple(decode_value(raw, key) for raw, key in zip(payload[2:], keys))
    # JSON and Unicode errors are ValueErrors; OverflowError: a time zone shifting year 1 or 9999 out of range.
    except (ValueError, TypeError, OverflowError, binascii.Error, RecursionError):
        raise InvalidCursor(_("This page link is broken or out of date. Start again from the first page."),
                            first_url=_link(paged)) from None
    return Position(as_of=as_of, values=values, backward=backward)


def requested_position(paged: PagedList) -> Position | None:
    """The position the request's ``after`` or ``before`` parameter asks for; None for the first page."""
    for name in CURSOR_PARAMETERS:
        cursor = request.args.get(name)
        if cursor is not None:
            return decode_cursor(cursor, paged, backward=(name == "before"))
    return None


# -- queries ------------------------------------------------------------------------------------

def _fetch(query: peewee.ModelSelect, keys: tuple[SortKey, ...], size: int,
           position: Position | None) -> list[tuple[Any, tuple]]:
    """Up to ``size`` rows of ``query`` from ``position``, each with its sort values, in the walking order."""
    backward = position is not None and position.backward
    keyed = keyed_ids(query, keys, size, position.values if position is not None else None, backward)
    rows = rows_in_order(query, [task_id for task_id, _values in keyed])
    return list(zip(rows, (values for _id, values in keyed)))


def _link(paged: PagedList, cursor_parameter: str | None = None, cursor: str | None = None) -> str:
    """The list's URL with the request's filters kept and the cursor replaced."""
    args = {name: value for name, value in request.args.items() if name not in CURSOR_PARAMETERS}
    if cursor_parameter:
        args[cursor_parameter] = cursor
    return url_for(paged.endpoint, **paged.endpoint_values, **args)


def keyset_list_page(query: peewee.ModelSelect, paged: PagedList, size: int, position: Position | None) -> Page:
    """One page of ``query`` in the order of ``paged`` from ``position``, with its links.

    A position that no longer has rows on its side (everything there was closed or deleted since)
    gives the first page.
    """
    as_of = position.as_of if position is not None else utcnow()
    keys = paged.keys_at(as_of)
    rows = _fetch(query, keys, size + 1, position)
    if position is not None and (not rows or (position.backward and len(rows) <= size)):
        # Walking back reached the start: show the first page whole rather than a short one.
        return keyset_list_page(query, paged, size, None)
    more = len(rows) > size
    rows = rows[:size]
    if position is not None and position.backward:
        rows.reverse()
    page = Page(rows=[row for row, _values in rows])

    def cursor_at(keyed_row) -> str:
        return encode_cursor(paged.name, as_of, keyed_row[1])

    # Walking back, the page we came from lies ahead; walking forward, the one we came from lies behind.
    has_next = True if position is not None and position.backward else more
    if position is not None:
        page.first_url = _link(paged)
        page.previous_url = _link(paged, "before", cursor_at(rows[0]))
    if has_next:
        page.next_url = _link(paged, "after", cursor_at(rows[-1]))
    return page


__all__ = ["SortKey", "PagedList", "Position", "Page", "InvalidCursor", "encode_cursor", "decode_cursor",
           "requested_position", "keyset_list_page"]
