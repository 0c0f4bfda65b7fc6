from __future__ import annotations

import datetime as dt

from workdesk import Task, write_transaction

from .models import DailyCount, Greeting


def greet(task: Task, event_id: int, text: str) -> None:
    """Store the greeting of a new task (idempotent: a second delivery changes nothing)."""
    with write_transaction():
        Greeting.insert(task_id=task.id, text=text).on_conflict_ignore().execute()


def count_open_tasks(now: dt.datetime, since: dt.datetime | None) -> int:
    """Record today's number of open tasks (``now`` comes from the worker or ``workdesk tick --at``)."""
    count = Task.select().where(Task.status.not_in(("resolved", "closed"))).count()
    with write_transaction():
        DailyCount.insert(day=now.date(), open_tasks=count).on_conflict(
            conflict_target=[DailyCount.day], update={DailyCount.open_tasks: count}).execute()
    return count
