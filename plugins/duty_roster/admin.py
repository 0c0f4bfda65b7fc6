"""Admin panel views: rotations (their layers and restrictions), overrides and swap requests.

Every change goes through the services, like the API's. Forms derive from Flask-WTF's ``FlaskForm`` so
they carry the token the application's global ``CSRFProtect`` checks.
"""
from __future__ import annotations

import datetime as dt
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from markupsafe import escape
from wtforms import IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from workdesk import Department, PermissionRequired, ServiceModelView, User, ValidationFailed, dates

from . import services
from .models import Override, Rotation, Swap

UNIT_LABELS = {"hours": _l("Hours"), "days": _l("Days"), "weeks": _l("Weeks")}
WEEKDAY_CHOICES = [("", _l("Any (the start date's)")), ("1", _l("Monday")), ("2", _l("Tuesday")),
                   ("3", _l("Wednesday")), ("4", _l("Thursday")), ("5", _l("Friday")), ("6", _l("Saturday")),
                   ("7", _l("Sunday"))]


def weekday_choices() -> list[tuple[str, object]]:
    """The weekdays in the order the reader's language lists them (Sunday first in English, Monday in German)."""
    names = dict(WEEKDAY_CHOICES)
    return [WEEKDAY_CHOICES[0]] + [(str(iso), names[str(iso)]) for iso, _name in dates.week_days()]


class RotationForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    department_id = SelectField(_l("Department"), coerce=int, choices=[])
    layer = IntegerField(_l("Layer (higher layers override lower ones)"), default=0,
                         validators=[NumberRange(min=0, max=100)])
    member_ids = StringField(_l("Members in order: user ids separated by commas, \"nobody\" for a deliberate "
                                "nobody slot"), validators=[DataRequired()])
    shift_length = IntegerField(_l("Shift length"), default=1, validators=[NumberRange(min=1, max=744)])
    shift_unit = SelectField(_l("Unit"), choices=[(k, v) for k, v in UNIT_LABELS.items()], default="weeks")
    handoff_time = StringField(_l("Hand-off time (local, HH:MM)"), default="09:00", validators=[DataRequired()])
    handoff_weekday = SelectField(_l("Hand-off weekday"), choices=weekday_choices, default="")
    timezone = StringField(_l("Time zone (IANA, e.g. Europe/Sofia)"), default="UTC", validators=[DataRequired()])
    start_date = StringField(_l("Start date (e.g. 2026-01-05)"), validators=[DataRequired()])
    restrictions = TextAreaField(_l("Only within (one window per line: weekdays 1-7, start, end; e.g. "
                                    "\"1,2,3,4,5 09:00 18:00\"); empty: all the time"))
    advance = SelectField(_l("With restrictions, the turn passes"), default="windows", choices=[
        ("windows", _l("at hand-offs that open time within them (no turn is lost outside them)")),
        ("calendar", _l("at every hand-off"))])


def _members(text: str) -> list[int | None]:
    members: list[int | None] = []
    for part in (text or "").replace(";", ",").split(","):
        part = part.strip()
        if not part:
            continue
        if part.lower() in ("nobody", "-", "null"):
            members.append(None)
            continue
        try:
            members.append(int(part))
        except ValueError:
            raise ValidationFailed(_("Invalid value."), {"member_ids": [
                _("Use user ids separated by commas, or \"nobody\".")]}) from None
    return members


def _restrictions(text: str) -> list[dict[str, Any]]:
    windows = []
    for line in (text or "").splitlines():
        parts = line.split()
        if not parts:
            continue
        try:
            if len(parts) != 3:
                raise ValueError
            weekdays = [int(d) for d in parts[0].split(",") if d.strip()]
        except ValueError:
            raise ValidationFailed(_("Invalid value."), {"restrictions": [
                _("Write each window as weekdays, start and end: \"1,2,3,4,5 09:00 18:00\".")]}) from None
        windows.append({"weekdays": weekdays, "start": parts[1], "end": parts[2]})
    return windows


def _form_values(form: RotationForm) -> dict[str, Any]:
    return {"name": form.name.data, "department_id": form.department_id.data, "layer": form.layer.data,
            "member_ids": _members(form.member_ids.data), "shift_length": form.shift_length.data,
            "shift_unit": form.shift_unit.data, "handoff_time": (form.handoff_time.data or "").strip(),
            "handoff_weekday": int(form.handoff_weekday.data) if form.handoff_weekday.data else None,
            "timezone": (form.timezone.data or "").strip(), "start_date": (form.start_date.data or "").strip(),
            "restrictions": _restrictions(form.restrictions.data), "advance": form.advance.data}


class _ManagedView(PermissionRequired, ServiceModelView):
    permission = services.PERMISSION
    form_base_class = FlaskForm
    can_view_details = False


def _shift_cell(view, context, model, name):
    return escape(f"{model.shift_length} {UNIT_LABELS.get(model.shift_unit, model.shift_unit)}, "
                  f"{model.handoff_time} {model.timezone}")


def _members_cell(view, context, model, name):
    names = {u.id: u.name for u in User.select(User.id, User.name).where(
        User.id.in_([m for m in model.member_ids if m is not None] or [0]))}
    return escape(", ".join(names.get(m, str(m)) if m is not None else _("nobody") for m in model.member_ids))


class RotationView(_ManagedView):
    """Rotations and their layers."""

    column_list = ("name", "department", "layer", "member_ids", "shift", "start_date")
    column_labels = {"member_ids": _l("Members"), "shift": _l("Shifts"), "layer": _l("Layer"),
                     "start_date": _l("Start date")}
    column_formatters = {"shift": _shift_cell, "member_ids": _members_cell,
                         "name": lambda v, c, m, n: escape(m.name)}
    column_sortable_list = ("name", "layer", "start_date")
    column_searchable_list = ("name",)
    column_default_sort = "id"

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("name", _l("Rotations and layers"))
        kwargs.setdefault("endpoint", "duty_roster_rotations")
        kwargs.setdefault("url", "/admin/duty_roster/rotations")
        super().__init__(Rotation, *args, **kwargs)

    record_form = RotationForm

    def with_choices(self, form):
        form.department_id.choices = [(d.id, d.name) for d in Department.select().order_by(Department.name)]
        return form

    def prefill(self, form, rotation):
        form.department_id.data = rotation.department_id
        form.member_ids.data = ", ".join("nobody" if m is None else str(m) for m in rotation.member_ids)
        form.handoff_weekday.data = str(rotation.handoff_weekday or "")
        start_date = rotation.start_date
        form.start_date.data = start_date if isinstance(start_date, str) else start_date.isoformat()
        form.restrictions.data = "\n".join(f"{','.join(map(str, w['weekdays']))} {w['start']} {w['end']}"
                                           for w in rotation.restrictions)

    def record_values(self, form):
        return _form_values(form)

    def create_record(self, actor, values):
        return services.create_rotation(actor, values)

    def update_record(self, actor, record_id, values):
        services.update_rotation(actor, record_id, values)

    def delete_record(self, actor, record_id):
        services.delete_rotation(actor, record_id)


class OverrideForm(FlaskForm):
    rotation_id = SelectField(_l("Rotation"), coerce=int, choices=[])
    user_id = IntegerField(_l("Who covers (user id; empty: deliberately nobody)"), validators=[Optional()])
    starts_at = StringField(_l("From (with its UTC offset, e.g. 2026-03-02T09:00+02:00)"), validators=[DataRequired()])
    ends_at = StringField(_l("Until (with its UTC offset)"), validators=[DataRequired()])
    note = StringField(_l("Note"), validators=[Length(max=2000)])


def _instant(text: str, field: str) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat((text or "").strip().replace("Z", "+00:00"))
    except ValueError:
        value = None
    if value is None or value.tzinfo is None:
        raise ValidationFailed(_("Invalid value."), {field: [
            _("An instant with its UTC offset, e.g. 2026-03-02T09:00+02:00.")]})
    return value


class OverrideView(_ManagedView):
    """Overrides: someone covers a rotation for a period."""

    can_edit = False
    column_list = ("rotation", "user", "starts_at", "ends_at", "note")
    column_labels = {"user": _l("Who covers"), "starts_at": _l("From (UTC)"), "ends_at": _l("Until (UTC)")}
    column_formatters = {"user": lambda v, c, m, n: escape(m.user.name if m.user_id else _("nobody")),
                         "note": lambda v, c, m, n: escape(m.note)}
    column_default_sort = ("starts_at", True)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("name", _l("Overrides"))
        kwargs.setdefault("endpoint", "duty_roster_overrides")
        kwargs.setdefault("url", "/admin/duty_roster/overrides")
        super().__init__(Override, *args, **kwargs)

    record_form = OverrideForm

    def with_choices(self, form):
        form.rotation_id.choices = [(r.id, f"{r.department.name}: {r.name}")
                                    for r in Rotation.select().order_by(Rotation.department, Rotation.name)]
        return form

    def record_values(self, form):
        return {"rotation_id": form.rotation_id.data, "user_id": form.user_id.data,
                "starts_at": _instant(form.starts_at.data, "starts_at"),
                "ends_at": _instant(form.ends_at.data, "ends_at"),
                "note": form.note.data}

    def create_record(self, actor, values):
        return services.create_override(actor, values)

    def delete_record(self, actor, record_id):
        services.delete_override(actor, record_id)


class SwapView(_ManagedView):
    """Swap requests, as the members made and answered them (read only)."""

    can_create = can_edit = can_delete = False
    column_list = ("rotation", "requester", "target", "starts_at", "ends_at", "status", "expires_at")
    column_labels = {"requester": _l("Asked by"), "target": _l("Asked of"), "starts_at": _l("From (UTC)"),
                     "ends_at": _l("Until (UTC)"), "status": _l("Status"), "expires_at": _l("Expires (UTC)")}
    column_filters = (Swap.status,)
    column_default_sort = ("created_at", True)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("name", _l("Swap requests"))
        kwargs.setdefault("endpoint", "duty_roster_swaps")
        kwargs.setdefault("url", "/admin/duty_roster/swaps")
        super().__init__(Swap, *args, **kwargs)


def admin_views() -> list:
    return [RotationView(), OverrideView(), SwapView()]
