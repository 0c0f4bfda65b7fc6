"""The inbox page, its forms, the JSON API and the unread count for the navigation bar."""
from __future__ import annotations

import marshmallow as ma
from flask import Blueprint, Flask, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, SelectField

from ..api import api_blueprint, api_operation, keyset_page, load_json, load_query, require_api_user
from ..web.forms import WorkdeskForm
from ..auth import current_user, login_required
from ..schemas import parse_id
from . import (DIGEST_MODES, Notification, delivery_channels, get_preferences, inbox_lines, inbox_query, mark_all_read, mark_read,
               mark_task_read, preference_kinds, set_preferences, task_path, unread_count)

PAGE_SIZE = 50
API_MAX_LIMIT = 200
DIGEST_LABELS = {"off": _l("Off: send each notification at once"), "hourly": _l("Hourly summary"),
                 "daily": _l("Daily summary (08:00 in my time zone)")}

pages = Blueprint("notifications", __name__, template_folder="templates")
api = api_blueprint("notifications_api", __name__, url_prefix="/api/v1/notifications")


class ActionForm(WorkdeskForm):
    """A button that posts (mark read, mark all read): only the CSRF token."""


def preferences_form(user, formdata=None) -> WorkdeskForm:
    """A form with the digest choice and one checkbox per (kind, channel), filled from the stored preferences."""
    current = get_preferences(user)
    channels = delivery_channels()
    kinds = preference_kinds(user)

    class PreferencesForm(WorkdeskForm):
        digest = SelectField(_l("Quiet digest"), choices=[(m, DIGEST_LABELS[m]) for m in DIGEST_MODES],
                             default=current["digest"])

    cells = {}
    for k, (kind, _label) in enumerate(kinds):
        for c, (channel, _title) in enumerate(channels):
            name = f"pref_{k}_{c}"
            cells[(kind, channel)] = name
            setattr(PreferencesForm, name, BooleanField(default=current["channels"].get(kind, {}).get(channel, True)))
    form = PreferencesForm(formdata=formdata) if formdata is not None else PreferencesForm()
    form.kinds, form.channels, form.cells = kinds, channels, cells
    return form


def _render_inbox(prefs_form, status: int = 200):
    user = current_user()
    before = parse_id(request.args.get("before"))  # anything but an id shows the first page
    lines, next_before = inbox_lines(user, before, PAGE_SIZE)  # one line per task, not one per step
    return render_template("notifications/inbox.html", lines=lines, unread=unread_count(user),
                           next_before=next_before, action_form=ActionForm(),
                           prefs_form=prefs_form, task_path=task_path), status


@pages.route("/notifications")
@login_required
def inbox():
    return _render_inbox(preferences_form(current_user()))


@pages.route("/notifications/<int:notification_id>/read", methods=["POST"])
@login_required
def read(notification_id: int):
    user = current_user()
    note = mark_read(user, notification_id)
    if note.task_id is not None:
        mark_task_read(user, note.task_id)  # the line stands for every notification about its task
    if request.form.get("open") and note.task_id is not None:
        return redirect(task_path(note.task_id))
    return redirect(url_for("notifications.inbox"))


@pages.route("/notifications/read-all", methods=["POST"])
@login_required
def read_all():
    count = mark_all_read(current_user())
    flash(_("%(num)d notifications marked read.", num=count))
    return redirect(url_for("notifications.inbox"))


@pages.route("/notifications/preferences", methods=["POST"])
@login_required
def preferences():
    user = current_user()
    form = preferences_form(user, formdata=request.form)
    if not form.validate():
        return _render_inbox(form, 400)
    channels: dict[str, dict[str, bool]] = {}
    for (kind, channel), name in form.cells.items():
        channels.setdefault(kind, {})[channel] = bool(form[name].data)
    set_preferences(user, digest=form.digest.data, channels=channels)
    flash(_("Notification preferences saved."))
    return redirect(url_for("notifications.inbox"))


# -- JSON API -----------------------------------------------------------------------------------

class NotificationSchema(ma.Schema):
    id = ma.fields.Integer()
    kind = ma.fields.String()
    subject = ma.fields.String()
    body = ma.fields.String()
    task_id = ma.fields.Integer(allow_none=True)
    created_at = ma.fields.AwareDateTime()
    is_read = ma.fields.Boolean()
    read_at = ma.fields.AwareDateTime(allow_none=True)


class NotificationPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(NotificationSchema))
    next_cursor = ma.fields.String(allow_none=True)
    unread_count = ma.fields.Integer()


class NotificationListQuery(ma.Schema):
    unread = ma.fields.Boolean(load_default=False)
    limit = ma.fields.Integer(load_default=50, validate=ma.validate.Range(1, API_MAX_LIMIT))
    cursor = ma.fields.String(load_default=None)


class MarkedSchema(ma.Schema):
    marked = ma.fields.Integer()
    unread_count = ma.fields.Integer()


class PreferencesSchema(ma.Schema):
    digest = ma.fields.String(validate=ma.validate.OneOf(DIGEST_MODES))
    channels = ma.fields.Dict(keys=ma.fields.String(validate=ma.validate.Length(1, 64)),
                              values=ma.fields.Dict(keys=ma.fields.String(validate=ma.validate.Length(1, 100)),
                                                    values=ma.fields.Boolean(truthy={True}, falsy={False})))


@api.get("")
@api_operation("List my notifications, newest first", tags=["notifications"], query=NotificationListQuery,
               response=NotificationPageSchema)
def api_list():
    """Digest summaries are not listed: the notifications they summarise are."""
    user = require_api_user()
    args = load_query(NotificationListQuery)
    items, next_cursor = keyset_page(inbox_query(user, unread_only=args["unread"]).order_by(), Notification.id,
                                     args["limit"], args["cursor"])
    return jsonify({"items": [n.to_dict() for n in items], "next_cursor": next_cursor,
                    "unread_count": unread_count(user)})


@api.post("/<id:notification_id>/read")
@api_operation("Mark one of my notifications read", tags=["notifications"], response=NotificationSchema)
def api_read(notification_id: int):
    return jsonify(mark_read(require_api_user(), notification_id).to_dict())


@api.post("/read-all")
@api_operation("Mark all my notifications read", tags=["notifications"], response=MarkedSchema)
def api_read_all():
    user = require_api_user()
    return jsonify({"marked": mark_all_read(user), "unread_count": unread_count(user)})


@api.get("/preferences")
@api_operation("My notification preferences", tags=["notifications"], response=PreferencesSchema)
def api_preferences():
    """``channels`` maps each kind to ``{channel: enabled}`` for the enabled delivery plugins."""
    return jsonify(get_preferences(require_api_user()))


@api.put("/preferences")
@api_operation("Change my notification preferences", tags=["notifications"], request=PreferencesSchema,
               response=PreferencesSchema)
def api_set_preferences():
    """Only the digest and the (kind, channel) pairs sent change; the others keep their value."""
    data = load_json(PreferencesSchema)
    return jsonify(set_preferences(require_api_user(), digest=data.get("digest"), channels=data.get("channels")))


def register_notifications(app: Flask) -> None:
    """Mount the inbox page and API and give every template ``unread_notifications_count``."""
    app.register_blueprint(pages)
    app.register_blueprint(api)

    @app.context_processor
    def _unread_notifications_count():
        user = current_user()
        return {"unread_notifications_count": unread_count(user) if user is not None else 0}
