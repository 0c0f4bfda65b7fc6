"""The admin home page and the health panel."""
from __future__ import annotations

import datetime as dt

from flask import abort, current_app, flash, redirect, url_for
from flask_admin import AdminIndexView, expose
from flask_babel import format_timedelta
from flask_babel import gettext as _

from workdesk import health
from workdesk.db import utcnow
from workdesk.errors import NotFound
from workdesk.registry import get_registry

from .base import AdminAccessMixin, AdminForm, WorkdeskBaseView, admin_user
from .stats import home_figures


class HomeView(AdminAccessMixin, AdminIndexView):
    """Open work by status and department, overdue, this week's flow and who carries what."""

    @expose("/")
    def index(self):
        user = admin_user()
        figures = home_figures(utcnow(), user.timezone if user else "UTC")
        report = health.health_report()
        return self.render("workdesk_admin/home.html", figures=figures, worker=report["worker"],
                           queue=report["queue"], failed_count=report["failed"]["total"])


def _ledger_url(plugin: str, view: str) -> str | None:
    """The delivery log (``deliveries``) or dead letters (``dead_letters``) page of an enabled delivery plugin."""
    endpoint = f"{plugin}_{view}.index_view"
    if endpoint not in current_app.view_functions or not get_registry().is_enabled(plugin):
        return None
    return url_for(endpoint)


def _plugin_title(plugin: str) -> str:
    found = get_registry().get(plugin)
    return found.title() if found is not None else plugin


class HealthView(WorkdeskBaseView):
    """Worker heartbeat, queue depth, failed work with retry buttons, periodic job times."""

    @expose("/")
    def index(self):
        return self.render("workdesk_admin/health.html", report=health.health_report(), form=AdminForm(),
                           duration=lambda seconds: format_timedelta(dt.timedelta(seconds=seconds), threshold=1),
                           ledger_url=_ledger_url, plugin_title=_plugin_title)

    def _repair(self, repair, done_message: str):
        """Run one of the panel's repair buttons (a CSRF-checked POST) and come back to the panel."""
        if not AdminForm().validate_on_submit():
            abort(400)
        try:
            repair()
            flash(done_message, "success")
        except NotFound as exc:
            flash(exc.message, "error")
        return redirect(self.get_url(".index"))

    @expose("/retry-event/<int:event_id>", methods=("POST",))
    def retry_event(self, event_id: int):
        return self._repair(lambda: health.retry_outbox_event(event_id),
                            _("Event %(id)s is queued for another delivery.", id=event_id))

    @expose("/clear-job/<path:job_name>", methods=("POST",))
    def clear_job(self, job_name: str):
        return self._repair(lambda: health.clear_job_error(job_name),
                            _("The error of %(job)s is cleared; it runs again on the next tick.", job=job_name))
