"""What the hello plugin does; the hooks in ``__init__`` only call these."""
from __future__ import annotations

import datetime as dt

from flask import render_template
from flask_babel import gettext as _
from flask_babel import ngettext
from markupsafe import Markup

from workdesk import (OPEN_STATUSES, Role, Task, User, for_each_in_transaction, notify, plugin_settings, utcnow,
                      write_transaction)

from .models import DailyCount, Greeting


def greet(task: Task, text: str) -> None:
    """Store the greeting of a new task (idempotent: a second delivery changes nothing)."""
    with write_transaction():
        Greeting.insert(task_id=task.id, text=text,
                        language=plugin_settings("hello")["language"]).on_conflict_ignore().execute()


def greet_waiting_tasks(text: str) -> int:
    """Greet the open tasks filed while the plugin was disabled (runs inside the enabling transaction)."""
    greeted = Greeting.select(Greeting.task_id)
    waiting = Task.select(Task.id).where(Task.status.in_(OPEN_STATUSES) & Task.id.not_in(greeted))
    rows = [{"task_id": task.id, "text": text, "language": plugin_settings("hello")["language"]}
            for task in waiting]
    if rows:
        Greeting.insert_many(rows).on_conflict_ignore().execute()
    return len(rows)


def forget(task_id: int) -> None:
    """A deleted task takes its greeting with it."""
    with write_transaction():
        Greeting.delete().where(Greeting.task_id == task_id).execute()


def due_date_refusal(changes: dict) -> str | None:
    """The reason to refuse a change that sets a due date in the past, or None."""
    due = changes.get("due_at", [None, None])[1]
    if due is not None and due < utcnow():
        return _("The due date %(date)s lies in the past.", date=due.strftime("%Y-%m-%d %H:%M UTC"))
    return None


def greeting_panel(task: Task) -> list[tuple[str, Markup]]:
    greeting = Greeting.get_or_none(Greeting.task_id == task.id)
    if greeting is None:
        return []
    return [(_("Greeting"), Markup(render_template("hello/panel.html", greeting=greeting)))]


def count_open_tasks(now: dt.datetime, since: dt.datetime | None) -> int:
    """Record today's number of open tasks and tell who may see it (``now`` comes from the worker or
    ``workdesk tick --at``). Jobs run outside any transaction: every write is its own."""
    count = Task.select().where(Task.status.in_(OPEN_STATUSES)).count()
    with write_transaction():
        DailyCount.insert(day=now.date(), open_tasks=count).on_conflict(
            conflict_target=[DailyCount.day], update={DailyCount.open_tasks: count}).execute()
    roles = [role.id for role in Role.select()
             if {"*", "hello.view_counts"} & set(role.permissions)]
    readers = User.select().where(User.role.in_(roles) & (User.is_active == True))  # noqa: E712

    def tell(reader: User) -> None:
        notify(reader, "hello.daily_count", ngettext("%(num)d open task on %(day)s", "%(num)d open tasks on %(day)s",
                                                     count, day=now.date().isoformat()),
               dedupe_key=f"hello.daily_count:{now.date()}")
    for_each_in_transaction(readers, tell)
    return count
