"""Recurring tasks

Task templates that file themselves on an RFC 5545 schedule (RRULE, EXDATE, COUNT/UNTIL) in any IANA
time zone, exactly once per occurrence, with catch-up, working-day and assignment policies.
"""
from __future__ import annotations

from workdesk import Plugin, hookimpl

from .models import MODELS
from .schemas import RecurringSettings


class RecurringPlugin(Plugin):
    """Recurring tasks

    Weekly checks, monthly payments, daily inspections: a rule files a task from its template at each
    occurrence of its recurrence, exactly once, even with several workers.
    """

    name = "recurring"
    version = "1.0.0"
    requires_workdesk = ">=1.0,<2"
    settings_schema = RecurringSettings

    @hookimpl
    def register_models(self):
        return list(MODELS)

    @hookimpl
    def register_permissions(self):
        return [("recurring.manage", "Create, change, pause and end recurring task rules")]

    @hookimpl
    def register_jobs(self):
        from .jobs import JOBS
        return list(JOBS)

    @hookimpl
    def register_notification_kinds(self):
        from flask_babel import lazy_gettext as _l
        return [("recurring.failed", _l("A recurring rule could not create its task"))]

    @hookimpl
    def register_blueprints(self, app):
        from .api import blueprint
        return [blueprint]

    @hookimpl
    def register_admin_views(self):
        from .admin import admin_views
        return admin_views()

    @hookimpl
    def extra_task_data(self, task):
        from .services import task_link
        return task_link(task)

    @hookimpl
    def on_task_updated(self, task, changes):
        if "status" in changes and task.status in ("resolved", "closed"):
            from .services import completion_recorded
            completion_recorded(task)

    @hookimpl
    def on_task_deleted(self, task_id):
        from .services import task_deleted
        task_deleted(task_id)
