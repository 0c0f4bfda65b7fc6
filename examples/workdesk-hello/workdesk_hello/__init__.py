"""Hello: greets every new task and counts open work once a day.

An example third-party plugin for Workdesk, and the one docs/writing-plugins.md builds step by step.
It shows each extension point a plugin usually needs: settings, tables of its own with migrations,
events, a field veto, extra task data, a task-page panel with its own template and translations, a
notification kind, an admin view, a periodic job and a command line command.
"""
from __future__ import annotations

import datetime as dt

from flask_babel import lazy_gettext as _l

from workdesk import PeriodicJob, Plugin, hookimpl

from .models import DailyCount, Greeting
from .schemas import HelloSettings


class HelloPlugin(Plugin):
    """Hello

    Stores a greeting for each new task, refuses moving a due date into the past, and counts open tasks every
    day for the people allowed to see the count.
    """

    name = "hello"
    version = "0.2.0"
    requires_workdesk = ">=1.1,<2"
    settings_schema = HelloSettings

    @hookimpl
    def register_models(self):
        return [Greeting, DailyCount]

    @hookimpl
    def register_permissions(self):
        return [("hello.view_counts", "See the daily open-task counts")]

    @hookimpl
    def register_notification_kinds(self):
        return [("hello.daily_count", _l("The daily count of open tasks"))]

    @hookimpl
    def register_jobs(self):
        from .services import count_open_tasks
        return [PeriodicJob("count_open", count_open_tasks, every=dt.timedelta(days=1),
                            description="Count open tasks once a day")]

    @hookimpl
    def register_admin_views(self):
        from .admin import DailyCountView
        return [DailyCountView(DailyCount, name="Daily counts", endpoint="hello_daily_counts", url="/admin/hello/counts")]

    @hookimpl
    def register_commands(self):
        from .cli import COMMANDS
        return COMMANDS

    @hookimpl
    def on_plugin_enabled(self):
        from .services import greet_waiting_tasks
        greet_waiting_tasks(self.settings()["greeting"])

    @hookimpl
    def on_task_created(self, task, event):
        from .services import greet
        greet(task, self.settings()["greeting"])

    @hookimpl
    def on_task_deleted(self, task_id):
        from .services import forget
        forget(task_id)

    @hookimpl
    def veto_task_change(self, task, changes, actor):
        from .services import due_date_refusal
        # Only people moving a due date are held to it: filing work that is already late (an import,
        # a recurring catch-up) is allowed.
        if actor is not None and task.id is not None and self.settings()["refuse_past_due_dates"]:
            return due_date_refusal(changes)
        return None

    @hookimpl
    def extra_task_data(self, task):
        greeting = Greeting.get_or_none(Greeting.task_id == task.id)
        return {"greeting": greeting.text} if greeting else None

    @hookimpl
    def task_page_panels(self, task, user):
        from .services import greeting_panel
        return greeting_panel(task)
