"""Duty roster

Who is on duty in each department: rotations, layers, restrictions, overrides, and new work for
whoever is on duty.
"""
from __future__ import annotations

from workdesk import Plugin, hookimpl

from .models import MODELS
from .schemas import DutyRosterSettings


class DutyRosterPlugin(Plugin):
    """Duty roster

    Rotations of people on duty per department, with layers, time restrictions, overrides and
    deliberate "nobody" slots, kept in each rotation's IANA time zone; who is on duty now or at any
    time; new unassigned tasks for whoever is on duty, switched per department.
    """

    name = "duty_roster"
    version = "0.1.0"
    requires_workdesk = ">=1.2,<2"
    assignment_rank = 90  # whoever is on duty comes after dispatch rules (see workdesk.Plugin)
    settings_schema = DutyRosterSettings

    @hookimpl
    def register_models(self):
        return list(MODELS)

    @hookimpl
    def register_permissions(self):
        return [("duty.manage", "Create and change duty rotations, overrides and roster switches")]

    @hookimpl
    def register_jobs(self):
        from .jobs import JOBS
        return list(JOBS)

    @hookimpl
    def register_notification_kinds(self):
        from flask_babel import lazy_gettext as _l
        return [("duty_roster.uncovered", _l("Duty in my department is uncovered (a gap or someone away)")),
                ("duty_roster.reminder", _l("My duty begins soon")),
                ("duty_roster.handover", _l("A shift was handed over to me")),
                ("duty_roster.swap", _l("Swap requests: asked of me, and answers to mine")),
                ("duty_roster.handover_late", _l("A hand-over in my department is missing or not acknowledged"))]

    @hookimpl
    def register_blueprints(self, app):
        from .api import blueprint
        from .feeds import pages as feed_pages
        from .views import pages
        return [blueprint, feed_pages, pages]

    @hookimpl
    def register_admin_views(self):
        from .admin import admin_views
        return admin_views()

    @hookimpl
    def people_on_duty(self, department_id, at):
        from .services import people_on_duty
        return people_on_duty(department_id, at)

    @hookimpl
    def propose_assignee(self, task, candidates):
        from .services import propose_on_duty
        return propose_on_duty(task, candidates)

    @hookimpl
    def register_report_metrics(self):
        from .metrics import METRICS
        return list(METRICS)
