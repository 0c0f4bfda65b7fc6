"""Scheduled reports: every week or month, a summary of the last complete period, sent through the
notification path (inbox, e-mail and the other channels each person chose) in the recipient's language,
with days counted in the recipient's time zone."""
from __future__ import annotations

import datetime as dt
from contextlib import nullcontext

from babel.dates import format_date
from flask import has_app_context
from flask_babel import force_locale
from flask_babel import gettext as _

from workdesk import (Department, Forbidden, NotFound, User, for_each_in_transaction, notifications, notify,
                      record_error)

from . import metrics
from .models import Schedule
from .scope import Period, build_scope, may_view


def last_complete_period(frequency: str, now: dt.datetime, zone) -> Period:
    """The last whole week (Monday to Sunday) or calendar month before ``now`` in ``zone``."""
    today = now.astimezone(zone).date()
    if frequency == "weekly":
        monday = today - dt.timedelta(days=today.weekday())
        return Period(monday - dt.timedelta(days=7), monday - dt.timedelta(days=1), zone)
    first_this = today.replace(day=1)
    last_previous = first_this - dt.timedelta(days=1)
    return Period(last_previous.replace(day=1), last_previous, zone)


def _language(user: User):
    return force_locale(user.locale) if has_app_context() and user.locale else nullcontext()


def _hours(value) -> str:
    return "–" if value is None else f"{value:g}"


def summary(recipient: User, period: Period, department: Department | None) -> tuple[str, str]:
    """The subject and body of a scheduled report for ``recipient`` (in their language)."""
    scope = build_scope(recipient, period, department.id if department else None)
    volume = metrics.volume(scope).rows
    times = {row["measure"]: row for row in metrics.response_times(scope).rows}
    rates = metrics.rates(scope).rows
    overdue = metrics.overdue(scope).rows[-1]["overdue"]
    satisfaction = metrics.satisfaction(scope).rows[-1]
    locale = recipient.locale or "en"
    first, last = (format_date(period.first, "medium", locale=locale), format_date(period.last, "medium", locale=locale))
    where = department.name if department else _("all your departments")
    response, resolution = list(times.values())
    subject = _("Report for %(where)s, %(first)s – %(last)s", where=where, first=first, last=last)
    lines = [
        _("Created: %(n)s, resolved: %(r)s, closed: %(c)s; open at the end: %(b)s.",
          n=sum(r["created"] for r in volume), r=sum(r["resolved"] for r in volume),
          c=sum(r["closed"] for r in volume), b=volume[-1]["backlog"] if volume else 0),
        _("First response: median %(m)s h, 90th percentile %(p)s h (working hours: %(wm)s, %(wp)s).",
          m=_hours(response["median_hours"]), p=_hours(response["p90_hours"]),
          wm=_hours(response["median_working_hours"]), wp=_hours(response["p90_working_hours"])),
        _("Resolution: median %(m)s h, 90th percentile %(p)s h (working hours: %(wm)s, %(wp)s).",
          m=_hours(resolution["median_hours"]), p=_hours(resolution["p90_hours"]),
          wm=_hours(resolution["median_working_hours"]), wp=_hours(resolution["p90_working_hours"])),
        *[f"{row['rate']}: {'–' if row['percent'] is None else row['percent']} % ({row['count']}/{row['of']})"
          for row in rates],
        _("Overdue now: %(n)s.", n=overdue),
        _("Satisfaction: %(n)s ratings, average %(a)s.", n=satisfaction["ratings"],
          a="–" if satisfaction["percent"] is None else satisfaction["percent"]),
        _("The whole report: %(link)s", link=f"{notifications.base_url()}/reports?from={period.first.isoformat()}"
                                            f"&to={period.last.isoformat()}"
                                            + (f"&department={department.id}" if department else "")),
    ]
    return subject, "\n".join(lines)


def send_due(now: dt.datetime, since: dt.datetime | None = None) -> int:
    """Send every schedule whose last complete period has not been sent yet (once per period)."""
    due = []
    for schedule in Schedule.select().join(User, on=(Schedule.recipient == User.id)).where(User.is_active == True):  # noqa: E712
        period = last_complete_period(schedule.frequency, now, schedule.recipient.zone)
        if schedule.last_period is None or schedule.last_period < period.first:
            due.append((schedule, period))

    def send(item) -> None:
        schedule, period = item
        recipient = schedule.recipient
        Schedule.update(last_period=period.first).where(Schedule.id == schedule.id).execute()
        if not may_view(recipient):
            return  # their role no longer allows reports: nothing is sent, the schedule stays for an admin
        try:
            with _language(recipient):
                subject, body = summary(recipient, period, schedule.department)
        except (Forbidden, NotFound) as exc:  # the department is no longer theirs to see
            record_error("reports", f"scheduled report {schedule.id} for {recipient.email}: {exc}")
            return
        notify(recipient, "reports.scheduled", subject, body,
               dedupe_key=f"reports.scheduled:{schedule.id}:{period.first.isoformat()}")

    return for_each_in_transaction(due, send)
