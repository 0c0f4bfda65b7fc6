"""Escalation

SLA clocks on working hours, warnings before a deadline, and escalation chains up the hierarchy that fire
once per task, target and cycle and reach each person as one message.
"""
from __future__ import annotations

from workdesk import Plugin, hookimpl

from .models import MODELS
from .schemas import EscalationSettings


class EscalationPlugin(Plugin):
    """Escalation

    SLA policies count first response, update, resolution and time-in-status targets on working calendars,
    pause while waiting, warn before a deadline and, once it is breached, escalate level by level (notify,
    reassign, raise the priority, add watchers, an internal note) — each level exactly once, one digest per
    person.
    """

    name = "escalation"
    version = "1.0.0"
    requires_workdesk = ">=1.2,<2"
    settings_schema = EscalationSettings

    @hookimpl
    def register_models(self):
        return list(MODELS)

    @hookimpl
    def register_permissions(self):
        return [("escalation.manage", "Create and change SLA policies and escalation chains")]

    @hookimpl
    def register_notification_kinds(self):
        from flask_babel import lazy_gettext as _l
        return [("escalation.warning", _l("A task I work on or queue for is close to its SLA deadline")),
                ("escalation.escalated", _l("A task breached its SLA and was escalated to me")),
                ("escalation.reminder", _l("A task I work on is due soon"))]

    @hookimpl
    def register_jobs(self):
        from .jobs import JOBS
        return list(JOBS)

    @hookimpl
    def register_blueprints(self, app):
        from .api import blueprint
        return [blueprint]

    @hookimpl
    def register_admin_views(self):
        from .admin import admin_views
        return admin_views()

    @hookimpl
    def register_task_filters(self):
        from flask_babel import lazy_gettext as _l

        from workdesk import TaskFilter, TaskSort

        from .lists import join_clock, sla_condition
        from .models import TaskClock
        return [TaskFilter("sla", _l("SLA"), sla_condition,
                           choices=[("at_risk", _l("At risk")), ("breached", _l("Breached"))],
                           description="at_risk: a running clock past its warning; breached: past a deadline"),
                TaskSort("sla_deadline", _l("SLA deadline"), TaskClock.next_due_at, join=join_clock,
                         ascending_label=_l("Nearest SLA deadline first"),
                         descending_label=_l("Furthest SLA deadline first"))]

    @hookimpl
    def register_report_metrics(self):
        from flask_babel import lazy_gettext as _l

        from workdesk import ReportMetric

        from .lists import sla_compliance
        return [ReportMetric("escalation.sla_compliance", _l("SLA compliance"), sla_compliance,
                             description=_l("Share of SLA targets met, per target, team and person."))]

    @hookimpl
    def on_plugin_enabled(self):
        from .recompute import request_recompute
        # Clocks follow the audit trail, so what happened while the plugin was off is caught up on.
        request_recompute("enabled", scope="open")

    @hookimpl
    def on_task_created(self, task):
        from .services import sync_task
        sync_task(task.id)

    @hookimpl
    def on_task_updated(self, task):
        from .services import sync_task
        sync_task(task.id)

    @hookimpl
    def on_task_commented(self, task):
        from .services import sync_task
        sync_task(task.id)

    @hookimpl
    def on_task_deleted(self, task_id):
        from .services import forget_task
        forget_task(task_id)

    @hookimpl
    def extra_task_data(self, task):
        from .services import clocks_of
        data = clocks_of(task, firings=False)  # shown in lists too: two queries a task
        return {"policy": data["policy"], "clocks": data["clocks"]} if data["policy"] else None

    @hookimpl
    def describe_task_event(self, event):
        from .views import describe
        return describe(event)

    @hookimpl
    def task_page_panels(self, task, user):
        from flask_babel import gettext as _
        from markupsafe import Markup

        from .views import panel
        html = panel(task, user)
        return [(_("SLA"), Markup(html))] if html is not None else None
