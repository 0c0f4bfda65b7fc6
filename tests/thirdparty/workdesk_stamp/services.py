from __future__ import annotations

import datetime as dt

from flask import render_template
from flask_babel import gettext as _
from markupsafe import Markup

from workdesk import Task, User, for_each_in_transaction, notify, overdue_condition, write_transaction

from .models import Lifecycle, Stamp


def stamp_overdue(now: dt.datetime, since: dt.datetime | None) -> int:
    """Stamp every task overdue at ``now`` once for the day, and tell its assignee."""
    day = now.date().isoformat()

    def stamp(task: Task) -> None:
        inserted = Stamp.insert(task_id=task.id, day=day).on_conflict_ignore().execute()
        if inserted and task.assignee_id:
            notify(User.get_by_id(task.assignee_id), "stamp.stamped", f"#{task.number} stamped overdue",
                   task=task, dedupe_key=f"stamp:{task.id}:{day}")
    return for_each_in_transaction(Task.select().where(overdue_condition(now)), stamp)


def log_lifecycle(what: str) -> None:
    Lifecycle.create(what=what)


def forget(task_id: int) -> None:
    with write_transaction():
        Stamp.delete().where(Stamp.task_id == task_id).execute()


def title_refusal(task: Task, changes: dict) -> str | None:
    if "title" in changes and task.id is not None and Stamp.select().where(Stamp.task_id == task.id).exists():
        return _("A stamped task keeps its title.")
    return None


def panel(task: Task) -> list[tuple[str, Markup]]:
    stamps = list(Stamp.select().where(Stamp.task_id == task.id).order_by(Stamp.day))
    if not stamps:
        return []
    return [(_("Stamps"), Markup(render_template("stamp/panel.html", stamps=stamps)))]
