"""The team web app: server-rendered pages for everyone who works on tasks (admins also have /admin).

The blueprint lives here with logging in and out and the liveness check; the pages are in
``account`` (own settings), ``lists`` (my work, queue, search), ``saved_views``, ``board`` (a column
per status), ``bulk`` (bulk edit of a list's tasks), ``task_pages`` (create, show, act) and ``content``
(comments' edits, internal notes, attachments).
Every write goes through ``workdesk.services``; every form is a Flask-WTF form with a CSRF token.
"""
from __future__ import annotations

from flask import (Blueprint, flash, has_request_context, make_response, redirect, render_template, request,
                   url_for)
from flask.sessions import SecureCookieSessionInterface
from flask_babel import gettext as _

from ..auth import authenticate, current_user, login_user, logout_user
from ..db import db
from ..extensions import LANGUAGE_COOKIE, LANGUAGE_PARAMETER, LANGUAGES
from ..labels import type_label
from ..redirects import safe_redirect_target
from ..rich_text import render_markdown
from ..throttle import PasswordThrottled
from .forms import LANGUAGE_NAMES, LoginForm
from .helpers import away, filing_panels, priority_label, status_label, throttled_page

web = Blueprint("web", __name__)
web.add_app_template_filter(status_label, "status_label")
web.add_app_template_filter(priority_label, "priority_label")
web.add_app_template_filter(type_label, "type_label")
web.add_app_template_test(lambda task: task.is_overdue(), "overdue")
web.add_app_template_global(away, "away")
web.add_app_template_filter(render_markdown, "markdown")
web.add_app_template_global(filing_panels, "filing_panels")


class SessionInterface(SecureCookieSessionInterface):
    """The signed-cookie session, marked Secure whenever the request itself came over HTTPS
    (or always, with the ``secure_cookies`` setting for a TLS-terminating proxy)."""

    def get_cookie_secure(self, app) -> bool:
        return bool(super().get_cookie_secure(app) or (has_request_context() and request.is_secure))


@web.record_once
def _install_session_interface(state) -> None:
    state.app.session_interface = SessionInterface()


def _next_page() -> str:
    # Only same-site paths: an open redirect would let a phishing link bounce through our login.
    return safe_redirect_target(request.args.get("next"), url_for("web.home"))


@web.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "GET" and current_user() is not None:
        return redirect(_next_page())
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = authenticate(form.email.data, form.password.data)
        except PasswordThrottled as exc:
            form.form_errors.append(exc.message)
            return throttled_page(render_template("core/login.html", form=form, languages=LANGUAGE_NAMES), exc)
        if user is not None:
            login_user(user)
            return redirect(_next_page())
        form.password.errors = [*form.password.errors, _("Wrong email or password.")]
    response = make_response(render_template("core/login.html", form=form, languages=LANGUAGE_NAMES),
                             200 if request.method == "GET" else 400)
    chosen = request.args.get(LANGUAGE_PARAMETER)
    if chosen in LANGUAGES:  # remembered for the next visit; the account's language decides once logged in
        response.set_cookie(LANGUAGE_COOKIE, chosen, max_age=365 * 24 * 3600, httponly=True, samesite="Lax",
                            secure=request.is_secure)
    return response


@web.route("/logout", methods=["POST"])
def logout():
    logout_user()
    flash(_("You are logged out on every device."))
    return redirect(url_for("web.login"))


@web.route("/healthz")
def healthz():
    """Liveness: the process answers and the database is reachable."""
    try:
        db.execute_sql("SELECT 1")
    except Exception:
        return {"status": "error", "database": "unreachable"}, 503
    return {"status": "ok"}


# The page modules add their routes to ``web`` when imported.
from . import account, board, bulk, content, lists, saved_views, task_pages  # noqa: E402,F401
