"""The core's pages: log in and out, the start page and the liveness check."""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired, Length

from ..access import visible_tasks
from ..auth import authenticate, current_user, login_required, login_user, logout_user
from ..db import db
from ..models import Task

web = Blueprint("web", __name__)


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1024)])


def _safe_next(target: str | None) -> str:
    # Only same-site paths: an open redirect would let a phishing link bounce through our login.
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return url_for("web.home")


@web.route("/login", methods=["GET", "POST"])
def login():
    form = LoginForm()
    if form.validate_on_submit():
        user = authenticate(form.email.data, form.password.data)
        if user is not None:
            login_user(user)
            return redirect(_safe_next(request.args.get("next")))
        form.password.errors = [*form.password.errors, _("Wrong email or password.")]
    return render_template("core/login.html", form=form), (200 if request.method == "GET" or form.errors == {} else 400)


@web.route("/logout", methods=["POST"])
def logout():
    logout_user()
    flash(_("You are logged out on every device."))
    return redirect(url_for("web.login"))


@web.route("/")
@login_required
def home():
    user = current_user()
    mine = (visible_tasks(user).where((Task.assignee == user) & Task.status.not_in(("resolved", "closed")))
            .order_by(Task.due_at.asc(nulls="LAST"), Task.id.desc()).limit(50))
    return render_template("core/home.html", tasks=list(mine))


@web.route("/healthz")
def healthz():
    """Liveness: the process answers and the database is reachable."""
    try:
        db.execute_sql("SELECT 1")
    except Exception:
        return {"status": "error", "database": "unreachable"}, 503
    return {"status": "ok"}
