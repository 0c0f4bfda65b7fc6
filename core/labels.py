"""The words people read for the workflow's keys: one label per status and priority, in the reader's language.

The web pages, the admin panel, notifications and error messages all show ``status_label(key)``,
never the stored key (``in_progress``).
"""
from __future__ import annotations

from typing import Iterable

from flask_babel import lazy_gettext as _l

from .models import PRIORITIES, STATUSES

STATUS_LABELS = {"new": _l("New"), "open": _l("Open"), "in_progress": _l("In progress"),
                 "waiting": _l("Waiting"), "resolved": _l("Resolved"), "closed": _l("Closed")}
PRIORITY_LABELS = {"low": _l("Low"), "normal": _l("Normal"), "high": _l("High"), "urgent": _l("Urgent")}
# Task types are free text an API client chooses; the usual service-desk ones have a label, any other
# is shown as written (it is someone's own word, not a key).
TYPE_LABELS = {"task": _l("Task"), "incident": _l("Incident"), "service_request": _l("Service request"),
               "request": _l("Request"), "change": _l("Change"), "problem": _l("Problem"),
               "question": _l("Question")}


def status_label(status: str) -> str:
    return str(STATUS_LABELS.get(status, status))


def priority_label(priority: str) -> str:
    return str(PRIORITY_LABELS.get(priority, priority))


def type_label(task_type: str) -> str:
    return str(TYPE_LABELS.get(task_type, task_type))


def status_choices(statuses: Iterable[str] = STATUSES) -> list[tuple[str, str]]:
    """``(key, label)`` pairs for a select, in workflow order."""
    return [(s, status_label(s)) for s in statuses]


def priority_choices() -> list[tuple[str, str]]:
    """``(key, label)`` pairs for a select, lowest first."""
    return [(p, priority_label(p)) for p in PRIORITIES]


__all__ = ["STATUS_LABELS", "PRIORITY_LABELS", "TYPE_LABELS", "status_label", "priority_label", "type_label",
           "status_choices",
           "priority_choices"]
