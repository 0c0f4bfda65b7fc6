"""What the page modules share: service errors onto forms, local time, labels, task lists, plugin panels."""
from __future__ import annotations

import datetime as dt
from typing import Any, Iterable
from zoneinfo import ZoneInfo

from flask import Response, has_request_context, make_response, request
from ..dates import format_instant
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import pgettext
from flask_wtf import FlaskForm
from markupsafe import Markup, escape
from peewee import JOIN, fn

from ..access import department_ids, visible_tasks, visible_users
from ..errors import TooManyRequests, ValidationFailed, WorkdeskError
from ..labels import PRIORITY_LABELS, STATUS_LABELS, priority_label, status_label  # noqa: F401 (used by the pages)
from ..models import DONE_STATUSES, OPEN_STATUSES, Absence, Department, Membership, Task, User
from ..search import matching_tasks, sorted_by_name
from ..registry import get_registry, record_error
from ..services.absences import current_absences

# The label of the button that moves a task *to* a status reads as an action.
TRANSITION_LABELS = {"open": _l("Open"), "in_progress": _l("Start work"), "waiting": _l("Wait"),
                     "resolved": _l("Resolve"), "closed": _l("Close")}
REOPEN_LABEL = _l("Reopen")
# The usual next step from each status: its button is the prominent one.
USUAL_NEXT = {"new": "open", "open": "in_progress", "in_progress": "resolved", "waiting": "in_progress",
              "resolved": "closed", "closed": "open"}


def transition_label(old: str, new: str) -> str:
    if new == "open" and old in DONE_STATUSES:
        return str(REOPEN_LABEL)
    if new == "open":
        # "Open" the button is a verb, "Open" the status an adjective: a context keeps them apart for
        # languages that say them differently (ru "Открыть" / "Открыта", zh "开始受理" / "待处理").
        return pgettext("workflow action", "Open")
    return str(TRANSITION_LABELS.get(new, new))


# -- service errors on forms -------------------------------------------------------------------

def show_service_error(form: FlaskForm, exc: WorkdeskError, aliases: dict[str, str] | None = None) -> None:
    """Put a service error on ``form``: per-field messages next to their fields, the rest above the form.

    ``aliases`` maps a service field name (``watcher_ids``) to the form field showing it (``watchers``).
    """
    aliases = aliases or {}
    placed = False
    for name, messages in (exc.fields or {}).items():
        field = getattr(form, aliases.get(name, name), None)
        if field is not None and name != "csrf_token" and hasattr(field, "errors"):
            field.errors = [*field.errors, *messages]
            placed = True
        else:
            form.form_errors.extend(messages)
    if not placed:
        form.form_errors.insert(0, exc.message)


def throttled_page(page: Any, exc: TooManyRequests) -> Response:
    """A form page refusing a throttled attempt (its message already on the form): 429 with Retry-After."""
    response = make_response(page)
    response.status_code = 429
    if exc.retry_after:
        response.headers["Retry-After"] = str(exc.retry_after)
    return response


# -- time --------------------------------------------------------------------------------------

def user_zone(user: User) -> ZoneInfo:
    return user.zone


def local_to_utc(value: dt.datetime | None, user: User, field: str = "due_at") -> dt.datetime | None:
    """A wall-clock time typed for ``user`` (naive, in their zone) as an aware UTC instant; a time that UTC
    cannot hold (the first or last hours of years 1 and 9999) is a ValidationFailed on ``field``."""
    if value is None:
        return None
    try:
        return value.replace(tzinfo=user_zone(user)).astimezone(dt.timezone.utc)
    except OverflowError:
        raise ValidationFailed(_("Invalid value."), {field: [_("Not a date and time Workdesk can store.")]}) from None


def utc_to_local(value: dt.datetime | None, user: User) -> dt.datetime | None:
    """An instant as the naive wall-clock time of the user (what a datetime-local input shows)."""
    if value is None:
        return None
    return value.astimezone(user_zone(user)).replace(tzinfo=None)


# -- people and departments ------------------------------------------------------------------

def my_departments(user: User) -> list[Department]:
    return list(Department.select().where(Department.id.in_(department_ids(user))).order_by(Department.name))


def colleagues(department_ids_: Iterable[int], viewer: User) -> list[User]:
    """Active members of these departments whom ``viewer`` may look up (``workdesk.access.visible_users``)."""
    ids = list(department_ids_)
    if not ids:
        return []
    return sorted_by_name(User.select().join(Membership, on=(Membership.user == User.id))
                          .where(Membership.department.in_(ids) & (User.is_active == True)  # noqa: E712
                                 & User.id.in_(visible_users(viewer).select(User.id)))
                          .group_by(User.id).order_by(User.id))


def away(user: User | None) -> Absence | None:
    """The absence ``user`` is in now, for the "away until …" marker next to their name. Every current
    absence is read once per request (one query), however many names a page shows."""
    if user is None or not has_request_context():
        return None
    found = request.environ.get("workdesk.current_absences")
    if found is None:
        found = request.environ["workdesk.current_absences"] = current_absences()
    return found.get(user.id if isinstance(user, User) else user)


def person_label(user: User) -> str:
    """A name for a select's option: "Ana Agent (away until 3/5/26, 5:00 PM)" while they are absent."""
    absence = away(user)
    if absence is None:
        return user.name
    return _("%(name)s (away until %(when)s)", name=user.name, when=format_instant(absence.ends_at))


# -- task lists --------------------------------------------------------------------------------

def with_people(query):
    """Load department, reporter and assignee in the same query (one row per task, no N+1)."""
    reporter = User.alias("reporter")
    assignee = User.alias("assignee")
    return (query.select_extend(Department, reporter, assignee)
            .join_from(Task, Department)
            .join_from(Task, reporter, on=(Task.reporter == reporter.id), attr="reporter")
            .join_from(Task, assignee, on=(Task.assignee == assignee.id), attr="assignee",
                       join_type=JOIN.LEFT_OUTER))


def status_counts(query) -> dict[str, int]:
    rows = query.select(Task.status, fn.COUNT(Task.id).alias("n")).group_by(Task.status).order_by().tuples()
    counts = dict(rows)
    return {status: counts.get(status, 0) for status in STATUS_LABELS}


def search_tasks(user: User, text: str):
    """Tasks ``user`` may see whose number, title or description matches ``text``."""
    return matching_tasks(visible_tasks(user), text)


# -- plugin panels and navigation links ------------------------------------------------------------

def navigation_links(user: User) -> list[dict[str, str]]:
    """The links enabled plugins add to the main navigation for ``user``; a plugin that fails, or a link
    that is not a path on this site, is recorded and left out."""
    links = []
    for plugin_name, item in get_registry().collect("navigation_links", user=user):
        if not (isinstance(item, (tuple, list)) and len(item) == 2 and isinstance(item[1], str)
                and item[1].startswith("/") and not item[1].startswith("//")):
            record_error(plugin_name, f"navigation_links returned {item!r}, not a (label, path) pair")
            continue
        links.append({"plugin": plugin_name, "label": str(item[0]), "url": item[1]})
    return links


def filing_panels(form: str) -> list[Markup]:
    """What enabled plugins add where the current person files tasks (``task_filing_panels``; ``form`` is
    ``"quick"`` or ``"full"``); a plugin that fails is recorded and left out, a plain string is escaped."""
    from ..auth import current_user
    user = current_user()
    if user is None:
        return []
    return [html if isinstance(html, Markup) else escape(str(html))
            for _plugin, html in get_registry().gather("task_filing_panels", user=user, form=form)]


def task_panels(task: Task, user: User) -> list[dict[str, Any]]:
    """The panels enabled plugins add to the task page; a plugin that fails is recorded and left out."""
    return _panels("task_page_panels", task=task, user=user)


def account_panels(user: User) -> list[dict[str, Any]]:
    """The sections enabled plugins add to ``user``'s own settings page (``account_page_panels``); a plugin
    that fails is recorded and left out."""
    return _panels("account_page_panels", user=user)


def head_extras(user: User | None) -> Markup:
    """What enabled plugins add to the ``<head>`` of every team page (``extra_head``); a plain string is
    escaped, a plugin that fails is recorded and left out."""
    return Markup("\n").join(html if isinstance(html, Markup) else escape(str(html))
                             for _plugin, html in get_registry().gather("extra_head", user=user))


def _panels(hook_name: str, **kwargs: Any) -> list[dict[str, Any]]:
    panels = []
    for plugin_name, item in get_registry().collect(hook_name, **kwargs):
        if not (isinstance(item, (tuple, list)) and len(item) == 2):
            record_error(plugin_name, f"{hook_name} returned {item!r}, not a (title, html) pair")
            continue
        title, html = item
        # Only Markup is trusted as HTML: a plain string from a plugin is shown as text.
        body = html if isinstance(html, Markup) else escape(str(html))
        panels.append({"plugin": plugin_name, "title": str(title), "html": body})
    return panels
