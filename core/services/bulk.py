"""Changing many tasks at once: each task, and each change of it, on its own through the task service.

A refusal (the workflow, a plugin's veto, a permission, a person who cannot take the department's
tasks, a stale task) never blocks or undoes the others; each success has its own audit entry and
events. The admin panel's bulk actions and the team pages' bulk edit both run here.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable

from flask_babel import gettext as _

from ..access import can_see
from ..errors import WorkdeskError
from ..models import Task, User
from ..schemas import parse_id


@dataclass
class BulkResult:
    """What a bulk change did: the tasks changed and, for each refusal, the task's label and why."""
    done: list[Task] = field(default_factory=list)
    refused: list[tuple[str, str]] = field(default_factory=list)  # (task label, reason)


def task_label(task_id: int, viewer: User | None = None) -> str:
    """"#12" for a task ``viewer`` may see (anyone when None), else "id 12": a refusal must not tell a
    task's number to someone who may not see it."""
    task = Task.get_or_none(Task.id == task_id)
    if task is None or (viewer is not None and not can_see(viewer, task)):
        return _("id %(id)s", id=task_id)
    return f"#{task.number}"


def run_bulk(ids: Iterable[object], change: Callable[[int], Task], viewer: User | None = None) -> BulkResult:
    """Apply ``change`` to each task id of ``ids`` (as typed: a bad one is refused, not raised) on its own."""
    result = BulkResult()
    for raw_id in ids:
        task_id = parse_id(raw_id)
        if task_id is None:
            result.refused.append((str(raw_id)[:20], _("Not a task id.")))
            continue
        try:
            result.done.append(change(task_id))
        except WorkdeskError as exc:
            result.refused.append((task_label(task_id, viewer), exc.message))
    return result
