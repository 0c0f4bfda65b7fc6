"""Own settings: name, time zone, language and password, and one's out-of-office periods."""
from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _

from ..access import department_ids
from ..auth import check_current_password, current_user, login_required, login_user
from ..db import utcnow
from ..errors import WorkdeskError
from ..models import Absence, Department, User
from ..services import absences
from ..services.users import update_user
from ..throttle import PasswordThrottled
from ..schemas import parse_id
from . import web
from .forms import AbsenceForm, DeleteForm, PasswordForm, PreferencesForm
from .helpers import account_panels, colleagues, local_to_utc, person_label, show_service_error, throttled_page


def _render(preferences: PreferencesForm | None = None, password: PasswordForm | None = None, status: int = 200,
            absence: AbsenceForm | None = None):
    user = current_user()
    if preferences is None:
        preferences = PreferencesForm(formdata=None, name=user.name, timezone=user.zone.key,
                                      locale=user.locale or "en")
    return render_template("core/account.html", preferences=preferences,
                           password=password or PasswordForm(formdata=None), plugin_panels=account_panels(user),
                           **_absences(user, absence)), status


@web.route("/account")
@login_required
def account():
    return _render()


@web.route("/account/preferences", methods=["POST"])
@login_required
def account_preferences():
    user = current_user()
    form = PreferencesForm()
    if form.validate_on_submit():
        try:
            update_user(user, user.id, {"name": form.name.data, "timezone": form.timezone.data,
                                        "locale": form.locale.data})
        except WorkdeskError as exc:
            show_service_error(form, exc)
            return _render(preferences=form, status=exc.status)
        flash(_("Your settings are saved."))
        return redirect(url_for("web.account"))
    return _render(preferences=form, status=400)


@web.route("/account/password", methods=["POST"])
@login_required
def account_password():
    user = current_user()
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            matches = check_current_password(user, form.current_password.data)
        except PasswordThrottled as exc:
            form.current_password.errors = [*form.current_password.errors, exc.message]
            return throttled_page(_render(password=form), exc)
        if not matches:
            form.current_password.errors = [*form.current_password.errors, _("This is not your current password.")]
            return _render(password=form, status=400)
        try:
            changed = update_user(user, user.id, {"password": form.new_password.data})
        except WorkdeskError as exc:
            show_service_error(form, exc, aliases={"password": "new_password"})
            return _render(password=form, status=exc.status)
        # The change ended every session, this one included; this browser continues on a fresh one.
        login_user(changed)
        flash(_("Your password is changed. Every other session and API token has been ended."))
        return redirect(url_for("web.account"))
    return _render(password=form, status=400)



# -- out of office -----------------------------------------------------------------------------

def team_members(user: User) -> list[User]:
    """The active members of the departments ``user`` heads, but not ``user``: whose absences a head records
    here (``workdesk.absences.can_manage``; admins record anyone's in the admin panel)."""
    headed = [d.id for d in Department.select(Department.id).where(Department.head == user)]
    return [u for u in colleagues(headed, user) if u.id != user.id]


def _absences(user, form: AbsenceForm | None) -> dict:
    form = form or AbsenceForm(formdata=None)
    team = team_members(user)
    form.user_id.choices = [("", _("Me"))] + [(str(u.id), person_label(u)) for u in team]
    form.delegate_id.choices = [("", _("Nobody"))] + [(str(u.id), person_label(u))
                                                      for u in colleagues(department_ids(user), user) if u.id != user.id]
    team_absences = list(Absence.select().where(Absence.user.in_([u.id for u in team])
                                                & (Absence.ends_at > utcnow()))
                         .order_by(Absence.starts_at, Absence.id)) if team else []
    return {"absence_form": form, "absences": list(absences.absences_of(user)), "team_absences": team_absences,
            "team": team, "delete_form": DeleteForm(formdata=None)}


@web.route("/account/absences", methods=["POST"])
@login_required
def account_absence_add():
    user = current_user()
    form = AbsenceForm()
    if not form.validate_on_submit():
        return _render(absence=form, status=400)
    delegate = form.delegate_id.data or ""
    for_user = parse_id(form.user_id.data) if form.user_id.data else None
    try:
        absences.create_absence(user, user_id=for_user, starts_at=local_to_utc(form.starts_at.data, user, "starts_at"),
                                ends_at=local_to_utc(form.ends_at.data, user, "ends_at"),
                                delegate_id=parse_id(delegate),
                                note=form.note.data or "")
    except WorkdeskError as exc:
        show_service_error(form, exc)
        return _render(absence=form, status=exc.status)
    if for_user is None or for_user == user.id:
        flash(_("Your absence is recorded."))
    else:
        flash(_("The absence of %(name)s is recorded.", name=User.get_by_id(for_user).name))
    return redirect(url_for("web.account") + "#absences")


@web.route("/account/absences/<int:absence_id>/delete", methods=["POST"])
@login_required
def account_absence_delete(absence_id: int):
    user = current_user()
    absences.get_manageable_absence(user, absence_id)  # one's own, or a team member's for a head; else 404
    if not DeleteForm().validate_on_submit():
        return _render(status=400)
    absences.delete_absence(user, absence_id)
    flash(_("The absence is deleted."))
    return redirect(url_for("web.account") + "#absences")
