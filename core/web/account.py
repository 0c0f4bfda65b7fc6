"""Own settings: name, time zone, language and password."""
from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _

from ..auth import current_user, login_required, login_user, verify_password
from ..errors import WorkdeskError
from ..services.users import update_user
from . import web
from .forms import PasswordForm, PreferencesForm
from .helpers import show_service_error


def _render(preferences: PreferencesForm | None = None, password: PasswordForm | None = None, status: int = 200):
    user = current_user()
    if preferences is None:
        preferences = PreferencesForm(formdata=None, name=user.name, timezone=user.timezone,
                                      locale=user.locale or "en", stored_timezone=user.timezone)
    return render_template("core/account.html", preferences=preferences,
                           password=password or PasswordForm(formdata=None)), status


@web.route("/account")
@login_required
def account():
    return _render()


@web.route("/account/preferences", methods=["POST"])
@login_required
def account_preferences():
    user = current_user()
    form = PreferencesForm(stored_timezone=user.timezone)
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
        if not verify_password(user, form.current_password.data):
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

