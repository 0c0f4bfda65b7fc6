"""Dispatch

New work reaches the right person automatically, and never someone who is away: ordered rules choose an
assignee for new tasks; batches send routine work to teams at once.
"""
from __future__ import annotations

import datetime as dt

from workdesk import PeriodicJob, Plugin, hookimpl

from .models import MODELS


class DispatchPlugin(Plugin):
    """Dispatch

    Ordered rules match new tasks (department, type, priority, impact, custom fields) and pick an
    assignee from a pool (a department, a role, a list of people, skill tags) by a strategy (least
    loaded, round-robin, best skill match, longest idle), leaving out whoever is away, deactivated, at
    their cap or off duty. When nobody fits the task waits in the queue and the head is told. Batches
    send routine work to every member or team at once.
    """

    name = "dispatch"
    version = "0.1.0"
    requires_workdesk = ">=1.2,<2"
    assignment_rank = 10  # rules come before whoever is on duty (duty_roster, 90); see workdesk.Plugin

    @hookimpl
    def register_models(self):
        return list(MODELS)

    @hookimpl
    def register_permissions(self):
        return [("dispatch.manage", "Create and change dispatch rules, preview them and dispatch batches")]

    @hookimpl
    def register_notification_kinds(self):
        from flask_babel import lazy_gettext as _l
        return [("dispatch.unplaced", _l("Nobody could be given a new task in my department")),
                ("dispatch.handed_back", _l("Open tasks were handed on because someone is away or left"))]

    @hookimpl
    def register_jobs(self):
        from . import batch, load, services
        return [PeriodicJob("check_loads", load.ensure, every=dt.timedelta(minutes=5),
                            description="The triggers that keep each person's load are in place"),
                PeriodicJob("hand_back_deactivated", services.hand_back_deactivated, every=dt.timedelta(minutes=5),
                            description="Open tasks still held by deactivated people go back to dispatch"),
                PeriodicJob("daily_batches", batch.run_daily, every=dt.timedelta(minutes=1),
                            description="Saved batches run at their daily local time")]

    @hookimpl
    def on_plugin_enabled(self):
        from workdesk import db

        from .load import install
        install(db.obj)  # the triggers in place and the loads recounted, whatever happened to the task table

    @hookimpl
    def register_blueprints(self, app):
        from .api import blueprint
        return [blueprint]

    @hookimpl
    def register_admin_views(self):
        from .admin import admin_views
        return admin_views()

    @hookimpl
    def register_report_metrics(self):
        from .report import metrics
        return metrics()

    @hookimpl
    def propose_assignee(self, task, candidates):
        from .services import propose
        return propose(task, candidates)

    @hookimpl
    def on_task_created(self, task):
        from .services import record_decision
        record_decision(task)

    @hookimpl
    def on_absence_started(self, absence, user):
        from workdesk import utcnow

        from .services import hand_back
        # The tasks go to whoever fits from the moment the absence began: now, or its start when the core's
        # job announced it ahead of the clock (``workdesk tick --at``), so people away by then are left out.
        hand_back(user, max(utcnow(), absence.starts_at), "absent")

    @hookimpl
    def on_user_deactivated(self, user, actor):
        from workdesk import utcnow

        from .services import hand_back
        if not user.is_active:  # not reactivated since
            hand_back(user, utcnow(), "deactivated")

    @hookimpl
    def on_task_deleted(self, task_id):
        from .services import forget_task
        forget_task(task_id)

    @hookimpl
    def describe_task_event(self, event):
        from .services import describe
        return describe(event)
