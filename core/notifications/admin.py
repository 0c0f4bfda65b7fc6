"""Admin panel views over a delivery plugin's ledger: the delivery log and the dead letters with a retry button.

Delivery plugins return ``delivery_admin_views(TheirDeliveryModel, "plugin", "Title")`` from
``register_admin_views``. Forms derive from ``workdesk.WorkdeskForm`` (Flask-WTF's ``FlaskForm`` with storable text), so Flask-Admin's action
form and the per-row retry button carry the token the application's global ``CSRFProtect`` checks
(Flask-Admin's ``SecureForm`` signs a token of its own that the global check would refuse).
"""
from __future__ import annotations

from flask import abort, flash, redirect, url_for
from flask_admin import expose
from flask_admin.actions import action
from flask_admin.contrib.peewee import ModelView
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup, escape

from ..web.forms import WorkdeskForm
from ..auth import current_user
from . import Notification
from .delivery import DeliveryRecord, retry_dead

ADMIN_PERMISSION = "admin.access"


def _subject_cell(view, context, model, name):
    note = Notification.get_or_none(Notification.id == model.notification_id)
    return escape(note.subject if note is not None else f"#{model.notification_id}")


def _retry_cell(view, context, model, name):
    target = url_for(".retry_one", row_id=model.id)
    return Markup('<form method="post" action="{}" class="inline"><input type="hidden" name="csrf_token" '
                  'value="{}"><button type="submit" class="btn btn-sm btn-warning">{}</button></form>'
                  ).format(target, generate_csrf(), _l("Retry"))


class DeliveryLogView(ModelView):
    """Every delivery attempt's outcome, read-only."""

    form_base_class = WorkdeskForm
    can_create = can_edit = can_delete = False
    can_view_details = True
    column_list = ("id", "notification", "destination", "status", "attempts", "last_error", "created_at",
                   "last_attempt_at", "next_attempt_at", "sent_at")
    column_labels = {"notification": _l("Notification"), "destination": _l("To"), "last_error": _l("Last error"),
                     "next_attempt_at": _l("Next attempt (UTC)"), "sent_at": _l("Sent (UTC)"),
                     "last_attempt_at": _l("Last attempt (UTC)"), "created_at": _l("Queued (UTC)")}
    column_formatters = {"notification": _subject_cell}
    column_sortable_list = ("id", "status", "attempts", "created_at", "last_attempt_at", "sent_at")
    column_default_sort = ("id", True)
    page_size = 50

    def __init__(self, model: type[DeliveryRecord], plugin: str, title: str, **kwargs):
        self.column_filters = (model.status, model.destination)
        self.column_searchable_list = (model.destination,)
        kwargs.setdefault("name", _l("Delivery log"))
        kwargs.setdefault("endpoint", f"{plugin}_deliveries")
        kwargs.setdefault("url", f"/admin/{plugin}/deliveries")
        kwargs.setdefault("category", title)
        super().__init__(model, **kwargs)

    def is_accessible(self) -> bool:
        user = current_user()
        return user is not None and user.is_active and user.has_permission(ADMIN_PERMISSION)

    def inaccessible_callback(self, name, **kwargs):
        abort(403 if current_user() is not None else 404)


class DeadLetterView(DeliveryLogView):
    """Deliveries that gave up; an admin retries them after fixing the cause."""

    column_list = ("id", "notification", "destination", "attempts", "last_error", "last_attempt_at", "retry")
    column_formatters = {"notification": _subject_cell, "retry": _retry_cell}
    column_labels = {**DeliveryLogView.column_labels, "retry": ""}

    def __init__(self, model: type[DeliveryRecord], plugin: str, title: str, **kwargs):
        kwargs.setdefault("name", _l("Dead letters"))
        kwargs.setdefault("endpoint", f"{plugin}_dead_letters")
        kwargs.setdefault("url", f"/admin/{plugin}/dead-letters")
        super().__init__(model, plugin, title, **kwargs)

    def get_query(self):
        return self.model.select().where(self.model.status == "dead")

    def get_one(self, id):
        return self.model.get_or_none((self.model.id == id) & (self.model.status == "dead"))

    def _retry(self, ids) -> None:
        count = retry_dead(self.model, ids)
        flash(ngettext("%(num)d delivery will be retried by the next retry run (within a minute).",
                       "%(num)d deliveries will be retried by the next retry run (within a minute).", count))

    @action("retry", _l("Retry"), _l("Retry the selected deliveries?"))
    def action_retry(self, ids):
        self._retry(ids)

    @expose("/retry/<int:row_id>", methods=["POST"])
    def retry_one(self, row_id: int):
        self._retry([row_id])
        return redirect(url_for(".index_view"))


def delivery_admin_views(model: type[DeliveryRecord], plugin: str, title: str) -> list[ModelView]:
    """The delivery log and the dead letters of a delivery plugin's ledger."""
    return [DeliveryLogView(model, plugin, title), DeadLetterView(model, plugin, title)]
