"""Compliance review

Review policies with multi-step, multi-department approval workflows, deadlines in working hours,
separation of duties, expedite for urgent work, a reviewer's queue and an auditors' export.
"""
from __future__ import annotations

from workdesk import Plugin, hookimpl

from .models import MODELS
from .schemas import ComplianceSettings


class ComplianceReviewPlugin(Plugin):
    """Compliance review

    Changes, purchases and sensitive requests are reviewed before they are done: policies pick the tasks,
    stages in ordered steps ask the right people (in parallel within a step), deadlines escalate, and every
    decision is in the audit trail and the auditors' export.
    """

    name = "compliance_review"
    version = "1.0.0"
    requires_workdesk = ">=1.2,<2"
    settings_schema = ComplianceSettings
    # An erroring review plugin must not let work through unreviewed: if the veto itself fails, the move
    # into resolved/closed is refused (with a message naming the plugin) until the plugin works again.
    fails_closed = frozenset({"veto_transition"})

    @hookimpl
    def register_models(self):
        return list(MODELS)

    @hookimpl
    def register_permissions(self):
        return [("compliance.manage", "Create and change review policies; override separation of duties"),
                ("compliance.review", "Be an approver through one's role"),
                ("compliance.expedite", "Skip the skippable review stages of urgent tasks"),
                ("compliance.audit", "Export the review log")]

    @hookimpl
    def register_notification_kinds(self):
        from flask_babel import lazy_gettext as _l
        return [("compliance_review.requested", _l("A review waits for my decision")),
                ("compliance_review.escalated", _l("A review stage I hold or head missed its deadline")),
                ("compliance_review.skipped", _l("A review stage I was asked to decide was skipped")),
                ("compliance_review.rejected", _l("The review of a task I reported was rejected")),
                ("compliance_review.approved", _l("The review of a task I reported or work on is complete"))]

    @hookimpl
    def register_jobs(self):
        from .jobs import JOBS
        return list(JOBS)

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
    def on_plugin_enabled(self):
        from .services import follow_absences, start_waiting_reviews
        start_waiting_reviews()
        follow_absences()  # absences that began or ended while the plugin was off

    # An absent approver's undecided requests go to their delegate while they are away, and come back.
    @hookimpl
    def on_absence_started(self, user):
        from .services import follow_absence
        follow_absence(user)

    @hookimpl
    def on_absence_ended(self, user):
        from .services import follow_absence
        follow_absence(user)

    @hookimpl
    def on_absence_changed(self, user):
        from .services import follow_absence
        follow_absence(user)  # another delegate named, or none any more

    @hookimpl
    def on_task_created(self, task):
        from .services import start_review
        start_review(task)

    @hookimpl
    def on_task_updated(self, task):
        from .services import start_review
        start_review(task)  # a task changed so that it now matches a policy (or reopened) gets its review

    @hookimpl
    def on_task_deleted(self, task_id):
        from .services import task_deleted
        task_deleted(task_id)

    @hookimpl
    def veto_transition(self, task, new_status):
        from .services import refusal
        return refusal(task, new_status)

    @hookimpl
    def extra_task_data(self, task):
        from .services import review_of, summary
        review = review_of(task)
        return summary(review) if review is not None else None

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
        return [(_("Review"), Markup(html))] if html is not None else None

    @hookimpl
    def register_report_metrics(self):
        from .metrics import METRICS
        return list(METRICS)
