"""Absences (out-of-office periods): recorded for anyone through ``workdesk.services.absences``."""
from __future__ import annotations

from flask import request
from flask_admin.contrib.peewee import filters
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import DateTimeLocalField, SelectField, StringField
from wtforms.validators import InputRequired, Length, Optional

from workdesk.errors import WorkdeskError
from workdesk.models import Absence, User
from workdesk.schemas import parse_id
from workdesk.search import sorted_by_name
from workdesk.services import absences
from workdesk.web.helpers import local_to_utc

from .base import AdminForm, WorkdeskModelView, admin_user, flash_service_error, live_options, person_name

LOCAL_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]


def _people() -> list[tuple[str, str]]:
    return [(str(u.id), u.name) for u in sorted_by_name(User.select().where(User.is_active == True))]  # noqa: E712


class AbsenceForm(AdminForm):
    user_id = SelectField(_l("Who is away"), choices=[])
    starts_at = DateTimeLocalField(_l("Away from (in their time zone)"), format=LOCAL_FORMATS,
                                   validators=[InputRequired()])
    ends_at = DateTimeLocalField(_l("Back on (in their time zone)"), format=LOCAL_FORMATS, validators=[InputRequired()])
    delegate_id = SelectField(_l("Who stands in"), choices=[])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=500)])


class AbsenceView(WorkdeskModelView):
    """Who is away when, and who stands in. Times are typed in the absent person's own time zone."""
    form = AbsenceForm
    column_list = ("user", "starts_at", "ends_at", "delegate", "note")
    column_labels = {"user": _l("Who"), "starts_at": _l("From"), "ends_at": _l("Back on"), "delegate": _l("Stands in")}
    column_formatters = {"user": person_name, "delegate": person_name}
    column_sortable_list = ("starts_at", "ends_at")
    column_default_sort = ("starts_at", True)
    column_searchable_list = (Absence.note,)
    column_filters = (filters.FilterEqual(Absence.user, _l("Who"), options=live_options(_people)),
                      filters.DateTimeGreaterFilter(Absence.ends_at, _l("Back on (UTC)")),
                      filters.DateTimeSmallerFilter(Absence.starts_at, _l("From (UTC)")))

    def search_placeholder(self) -> str:
        return _("Search notes")

    def _with_choices(self, form):
        form.user_id.choices = _people()
        form.delegate_id.choices = [("", _("Nobody"))] + _people()
        return form

    def create_form(self, obj=None):
        return self._with_choices(super().create_form(obj))

    def edit_form(self, obj=None):
        return self._with_choices(super().edit_form(obj))

    def on_form_prefill(self, form, id):
        if request.method != "GET":  # keep what was typed when a save failed
            return
        absence = Absence.get_by_id(id)
        zone = absence.user.zone
        form.user_id.data = str(absence.user_id)
        form.delegate_id.data = str(absence.delegate_id or "")
        form.starts_at.data = absence.starts_at.astimezone(zone).replace(tzinfo=None)
        form.ends_at.data = absence.ends_at.astimezone(zone).replace(tzinfo=None)

    def _values(self, form, person: User) -> dict:
        delegate = form.delegate_id.data or ""
        # Typed in the absent person's zone, whoever types it.
        return {"starts_at": local_to_utc(form.starts_at.data, person, "starts_at"),
                "ends_at": local_to_utc(form.ends_at.data, person, "ends_at"),
                "delegate_id": parse_id(delegate),
                "note": form.note.data or ""}

    def create_model(self, form):
        raw = form.user_id.data or ""
        person_id = parse_id(raw)
        person = User.get_or_none(User.id == person_id) if person_id is not None else None
        if person is None:
            form.user_id.errors = [*form.user_id.errors, _("Choose someone from the list.")]
            return False
        try:
            return absences.create_absence(admin_user(), user_id=person.id, **self._values(form, person))
        except WorkdeskError as exc:
            flash_service_error(exc, form)
            return False

    def update_model(self, form, model):
        try:
            absences.update_absence(admin_user(), model.id, self._values(form, model.user))
        except WorkdeskError as exc:
            flash_service_error(exc, form)
            return False
        return True

    def delete_model(self, model):
        try:
            absences.delete_absence(admin_user(), model.id)
        except WorkdeskError as exc:
            flash_service_error(exc)
            return False
        return True
