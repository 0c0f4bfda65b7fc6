"""Reports

Workload at a glance, team metrics, satisfaction and scheduled reports, computed from the audit trail.
"""
from __future__ import annotations

import datetime as dt

from workdesk import Plugin, hookimpl

from .models import MODELS
from .schemas import ReportsSettings


class ReportsPlugin(Plugin):
    """Reports

    A dashboard for managers and admins: tasks created and resolved, the backlog, response and
    resolution times in calendar and working hours, resolution, reopen and transfer rates, overdue
    work, time in each status per department, workload per person, satisfaction ratings, and the
    metrics other plugins contribute; each figure links to its tasks, exports as CSV and is served by
    the API; weekly or monthly reports sent to chosen people.
    """

    name = "reports"
    version = "0.1.0"
    requires_workdesk = ">=1.2,<2"
    settings_schema = ReportsSettings

    @hookimpl
    def register_models(self):
        return list(MODELS)

    @hookimpl
    def register_permissions(self):
        from flask_babel import lazy_gettext as _l
        return [("reports.view", _l("See reports on one's own departments (headed or belonging to)")),
                ("reports.view_all", _l("See reports on every department"))]

    @hookimpl
    def register_blueprints(self, app):
        from .api import blueprint
        from .views import pages
        return [blueprint, pages]

    @hookimpl
    def register_admin_views(self):
        from .admin import admin_views
        return admin_views()

    @hookimpl
    def register_task_filters(self):
        from .filters import FILTERS
        return list(FILTERS)

    @hookimpl
    def register_notification_kinds(self):
        from flask_babel import lazy_gettext as _l
        return [("reports.rating", _l("A task I reported is resolved: rate it")),
                ("reports.scheduled", _l("Scheduled reports sent to me"))]

    @hookimpl
    def register_jobs(self):
        from workdesk import PeriodicJob

        from .schedules import send_due
        return [PeriodicJob("scheduled", send_due, every=dt.timedelta(hours=1),
                            description="Send weekly and monthly reports whose period has ended")]

    @hookimpl
    def navigation_links(self, user):
        from flask_babel import gettext as _

        from .scope import may_view
        return [(_("Reports"), "/reports")] if may_view(user) else []

    @hookimpl
    def register_commands(self):
        from .cli import COMMANDS
        return list(COMMANDS)

    # The facts of a task are derived again from its trail on every change the trail records (see
    # facts.py: recomputing makes a redelivered or late event harmless).
    @hookimpl
    def on_task_created(self, task):
        from .facts import refresh
        refresh([task.id])

    @hookimpl
    def on_task_updated(self, task, changes):
        from .facts import refresh
        from .ratings import ask_for_rating
        refresh([task.id])
        ask_for_rating(task, changes)

    @hookimpl
    def on_task_commented(self, task):
        from .facts import refresh
        refresh([task.id])

    @hookimpl
    def on_task_deleted(self, task_id):
        from .facts import refresh
        refresh([task_id])

    @hookimpl
    def task_page_panels(self, task, user):
        from flask import render_template
        from flask_babel import gettext as _
        from markupsafe import Markup

        from .ratings import panel_state
        state = panel_state(task, user)
        if state is None:
            return []
        return [(_("Satisfaction"), Markup(render_template("reports/panel.html", state=state)))]

    @hookimpl
    def on_plugin_enabled(self):
        from .facts import rebuild
        from .services import grant_default_permissions
        grant_default_permissions()
        # Its handlers did not run while it was off: derive the facts again from the whole trail.
        rebuild()
