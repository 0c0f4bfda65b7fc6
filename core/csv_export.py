"""The one CSV writer: every export of Workdesk — the admin panel's model views and plugins' own
exports — writes through it, so every cell is escaped in one place.

Every value, related objects included, is turned into text first; text that a spreadsheet would run
as a formula (starting with ``=``, ``+``, ``-``, ``@``, also after leading blanks, or with a tab or
line break) gets a leading ``'``. Numbers stay numbers. The file is UTF-8 with a byte order mark, so
spreadsheets read every script correctly.
"""
from __future__ import annotations

import csv
import datetime as dt
from decimal import Decimal
from typing import Any, Iterable, Iterator

from flask import Response, stream_with_context

BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@")
TRIGGER_STARTS = FORMULA_STARTS + ("\t", "\r", "\n")


def escape_formula(text: str) -> str:
    """``text`` with a leading ``'`` when a spreadsheet would evaluate it."""
    if text.startswith(TRIGGER_STARTS) or text.lstrip().startswith(FORMULA_STARTS):
        return "'" + text
    return text


def csv_cell(value: Any) -> str:
    """One cell: ``None`` empty, booleans ``true``/``false``, numbers as written, instants in UTC (ISO
    8601), anything else (a related object, a lazy translation) as its text, formula-escaped."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, Decimal)):
        return str(value)
    if isinstance(value, dt.datetime):
        value = value.astimezone(dt.timezone.utc).isoformat() if value.tzinfo else value.isoformat()
    elif isinstance(value, dt.date):
        value = value.isoformat()
    return escape_formula(str(value))


class _Line:
    def write(self, line: str) -> str:
        return line


def csv_lines(header: Iterable[Any], rows: Iterable[Iterable[Any]]) -> Iterator[str]:
    """The CSV text line by line: the byte order mark and the header first, every cell through :func:`csv_cell`."""
    writer = csv.writer(_Line())
    yield BOM + writer.writerow([csv_cell(c) for c in header])
    for row in rows:
        yield writer.writerow([csv_cell(c) for c in row])


def csv_response(header: Iterable[Any], rows: Iterable[Iterable[Any]], filename: str) -> Response:
    """A streamed ``text/csv`` download named ``filename``."""
    response = Response(stream_with_context(csv_lines(header, rows)), mimetype="text/csv")
    response.headers.set("Content-Disposition", "attachment", filename=filename)
    return response
