"""The auditors' CSV export of the review log.

Every cell is text a spreadsheet shows as text: one that would start a formula (``=``, ``+``, ``-``,
``@``, also after leading blanks, or a leading tab or line break) gets a leading ``'``. The file is
UTF-8 with a byte order mark, so spreadsheets read every script correctly.

This module carries its own small writer only until the core's one CSV writer lands (issue 11);
then ``csv_lines`` here gives way to the core's and the rows stay as they are.
"""
from __future__ import annotations

import csv
import datetime as dt
from typing import Any, Iterable, Iterator

from flask_babel import gettext as _

from .models import Decision

BOM = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@")
TRIGGER_STARTS = FORMULA_STARTS + ("\t", "\r", "\n")


def escape_formula(text: str) -> str:
    if text.startswith(TRIGGER_STARTS) or text.lstrip().startswith(FORMULA_STARTS):
        return "'" + text
    return text


def csv_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.timezone.utc).isoformat()
    return escape_formula(str(value))


class _Line:
    def write(self, line: str) -> str:
        return line


def csv_lines(header: Iterable[Any], rows: Iterable[Iterable[Any]]) -> Iterator[str]:
    """The CSV text line by line: the byte order mark and the header first, every cell escaped."""
    writer = csv.writer(_Line())
    yield BOM + writer.writerow([csv_cell(c) for c in header])
    for row in rows:
        yield writer.writerow([csv_cell(c) for c in row])


def header() -> list[str]:
    return [_("When (UTC)"), _("Task #"), _("Task"), _("Policy"), _("Round"), _("Stage"), _("Action"),
            _("Automatic"), _("Override"), _("Expedite"), _("By"), _("On behalf of"), _("Comment"), _("Reason"),
            _("Why on behalf")]


def rows(decisions: Iterable[Decision]) -> Iterator[list[Any]]:
    for d in decisions:
        yield [d.at, d.task_number, d.task_title, d.policy_name, d.round, d.stage_name, d.action, d.automatic,
               d.override, d.expedite, d.actor_name, d.on_behalf_of_name, d.comment, d.reason, d.on_behalf_reason]


def export_lines(decisions: Iterable[Decision]) -> Iterator[str]:
    return csv_lines(header(), rows(decisions))
