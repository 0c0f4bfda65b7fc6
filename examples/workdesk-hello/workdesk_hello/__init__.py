"""Hello: greets every new task and counts open work once a day.

An example third-party plugin for Workdesk. It shows each extension point a plugin usually needs:
settings, a table of its own with migrations, an event hook, extra task data, an admin view and a
periodic job. docs/writing-plugins.md builds it step by step.
"""
from __future__ import annotations

import datetime as dt

from workdesk import Plugin, PeriodicJob, hookimpl

from .models import DailyCount, Greeting
from .schemas import HelloSettings
from .services import count_open_tasks, greet


class HelloPlugin(Plugin):
    """Hello

    Stores a greeting for each new task and keeps a daily count of open tasks.
    """

    name = "hello"
    version = "0.1.0"
    requires_workdesk = ">=1.0,<2"
    settings_schema = HelloSettings

    @hookimpl
    def register_models(self):
        return [Greeting, DailyCount]

    @hookimpl
    def register_permissions(self):
        return [("hello.view_counts", "See the daily open-task counts")]

    @hookimpl
    def on_task_created(self, task, event):
        greet(task, event_id=event["id"], text=self.settings()["greeting"])

    @hookimpl
    def extra_task_data(self, task):
        greeting = Greeting.get_or_none(Greeting.task_id == task.id)
        return {"greeting": greeting.text} if greeting else None

    @hookimpl
    def register_jobs(self):
        return [PeriodicJob("count_open", count_open_tasks, every=dt.timedelta(days=1),
                            description="Count open tasks once a day")]

    @hookimpl
    def register_admin_views(self):
        from .admin import DailyCountView
        return [DailyCountView(DailyCount, name="Daily counts", endpoint="hello_daily_counts")]
