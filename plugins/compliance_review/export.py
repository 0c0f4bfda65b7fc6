"""The auditors' CSV export of the review log: its columns and rows. The file is written by the core's one
CSV writer (``workdesk.csv_export``: every cell formula-escaped, UTF-8 with a byte order mark)."""
from __future__ import annotations

from typing import Any, Iterable, Iterator

from flask import Response
from flask_babel import gettext as _

from workdesk import csv_export

from .models import Decision


def header() -> list[str]:
    return [_("When (UTC)"), _("Task #"), _("Task"), _("Policy"), _("Round"), _("Stage"), _("Action"),
            _("Automatic"), _("Override"), _("Expedite"), _("By"), _("On behalf of"), _("Comment"), _("Reason"),
            _("Why on behalf")]


def rows(decisions: Iterable[Decision]) -> Iterator[list[Any]]:
    for d in decisions:
        yield [d.at, d.task_number, d.task_title, d.policy_name, d.round, d.stage_name, d.action, d.automatic,
               d.override, d.expedite, d.actor_name, d.on_behalf_of_name, d.comment, d.reason, d.on_behalf_reason]


def export_response(decisions: Iterable[Decision], filename: str) -> Response:
    return csv_export.csv_response(header(), rows(decisions), filename)
