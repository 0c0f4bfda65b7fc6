"""Satisfaction: when a task is resolved its reporter may rate the resolution 1-5 with a comment.

The link (in the notification and on the task page) carries a token signed with the instance's secret
(``workdesk.signing``) naming the task and the audit-trail row of the resolution; it needs no login,
expires after the ``rating_link_days`` setting, and works once: ``reports_rating`` is unique per
resolution row. A task reopened and resolved again can be rated again, for its new resolution.
"""
from __future__ import annotations

from contextlib import nullcontext
from typing import Any

from flask import has_app_context
from flask_babel import force_locale
from flask_babel import gettext as _

from workdesk import (Conflict, NotFound, Task, TaskEvent, User, ValidationFailed, notifications, notify,
                      plugin_settings, signing, utcnow, write_transaction)

from .models import Rating
from .sql import has_key, json_value, run

PURPOSE = "reports.rating"
SCORES = (1, 2, 3, 4, 5)


def latest_resolution(task_id: int) -> int | None:
    """The id of the audit-trail row of the task's latest move to ``resolved``, or None."""
    rows = run(f"SELECT MAX(e.id) FROM core_task_event e WHERE e.task_id = ? AND {has_key('e.changes', 'status')} "
               f"AND {json_value('e.changes', 'status', 1)} = 'resolved'", [task_id])
    return rows[0][0] if rows and rows[0][0] is not None else None


def rating_token(task: Task, event_id: int) -> str:
    return signing.sign(PURPOSE, {"t": task.id, "e": event_id})


def rating_path(task: Task, event_id: int) -> str:
    return f"/reports/rate/{rating_token(task, event_id)}"


def _max_age() -> int:
    return int(plugin_settings("reports")["rating_link_days"]) * 86400


def open_link(token: str) -> tuple[Task, int]:
    """The task and resolution a rating link is for.

    :raises NotFound: not a link of this instance, or its task is gone.
    :raises signing.LinkExpired: older than ``rating_link_days``.
    :raises Conflict: already used (the resolution is rated).
    """
    try:
        payload = signing.unsign(PURPOSE, token, _max_age())
    except signing.LinkInvalid:
        raise NotFound(_("This rating link is not valid.")) from None
    if not (isinstance(payload, dict) and isinstance(payload.get("t"), int) and isinstance(payload.get("e"), int)):
        raise NotFound(_("This rating link is not valid."))
    task = Task.get_or_none(Task.id == payload["t"])
    event = TaskEvent.get_or_none((TaskEvent.id == payload["e"]) & (TaskEvent.task_id == payload["t"]))
    if task is None or event is None:
        raise NotFound(_("This rating link is not valid."))
    if Rating.select().where(Rating.resolution_event_id == event.id).exists():
        raise Conflict(_("This resolution has already been rated. Thank you!"))
    return task, event.id


def rate(token: str, score: Any, comment: str = "") -> Rating:
    """Record the rating a link asks for; the link then stops working."""
    task, event_id = open_link(token)
    if score not in SCORES:
        raise ValidationFailed(_("Some fields are not valid."), {"score": [_("Choose a score from 1 to 5.")]})
    comment = (comment or "").strip()
    if len(comment) > 2000:
        raise ValidationFailed(_("Some fields are not valid."), {"comment": [_("At most 2000 characters.")]})
    with write_transaction():
        inserted = Rating.insert(task_id=task.id, resolution_event_id=event_id, rater=task.reporter_id, score=score,
                                 comment=comment, created_at=utcnow()).on_conflict_ignore().execute()
        rating = Rating.get_or_none(Rating.resolution_event_id == event_id)
    if not inserted or rating is None or rating.score != score or rating.comment != comment:
        raise Conflict(_("This resolution has already been rated. Thank you!"))
    return rating


def _in_language_of(user: User):
    return force_locale(user.locale) if has_app_context() and user.locale else nullcontext()


def ask_for_rating(task: Task, changes: dict[str, list]) -> bool:
    """After a task moved to resolved: send its reporter the rating link (once per resolution)."""
    status = changes.get("status") or [None, None]
    if status[1] != "resolved" or not plugin_settings("reports")["ask_for_ratings"]:
        return False
    event_id = latest_resolution(task.id)
    reporter = User.get_or_none(User.id == task.reporter_id)
    if event_id is None or reporter is None:
        return False
    link = notifications.base_url() + rating_path(task, event_id)
    days = plugin_settings("reports")["rating_link_days"]
    with _in_language_of(reporter):
        subject = _("How did we do? Rate the resolution of #%(number)s", number=task.number)
        body = _("“%(title)s” is resolved. Rate it from 1 to 5, with a comment if you like (no login needed; "
                 "the link works once, for %(days)s days): %(link)s", title=task.title, days=days, link=link)
    notify(reporter, "reports.rating", subject, body, task=task, dedupe_key=f"reports.rating:{event_id}")
    return True


def panel_state(task: Task, user: User) -> dict[str, Any] | None:
    """What the task page shows the reporter of a resolved task: a link to rate it, or their rating."""
    if user.id != task.reporter_id or task.status not in ("resolved", "closed"):
        return None
    event_id = latest_resolution(task.id)
    if event_id is None:
        return None
    rating = Rating.get_or_none(Rating.resolution_event_id == event_id)
    if rating is not None:
        return {"rating": rating}
    return {"path": rating_path(task, event_id)}
