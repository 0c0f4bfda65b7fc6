"""Dates and times as people read them: one format per language, relative times, due-date presets.

Every instant the pages show goes through :func:`format_instant` (a calendar day: :func:`format_day`): the reader's time zone, and their
language's short date (widened to a four-digit year, so "3/11/26" reads "3/11/2026") with its short
time. :func:`time_tag` says it relatively ("in 2 hours", "3 days ago") with the exact time on hover.
The due-date presets (today, tomorrow, next working day, in a week) fall at the end of a working day
of the task's department's calendar (``workdesk.services.calendars``).
"""
from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache
from zoneinfo import ZoneInfo

from babel import Locale
from flask_babel import format_date, format_datetime, format_timedelta, get_locale
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from .models import Department
from .services.calendars import WorkingTime

UTC = dt.timezone.utc
# A department without a calendar (its own or an ancestor's) works Monday to Friday, 09:00-17:00 in the
# reader's time zone: the presets still skip the weekend.
DEFAULT_WEEK = {day: [["09:00", "17:00"]] for day in ("mon", "tue", "wed", "thu", "fri")}
DUE_PRESETS = {"today": _l("Today"), "tomorrow": _l("Tomorrow"), "next_working_day": _l("Next working day"),
               "week": _l("In a week")}


@lru_cache(maxsize=64)
def date_pattern(locale: str) -> str:
    """The one date pattern of ``locale``: its short date with a four-digit year ("M/d/yyyy", "dd.MM.yyyy")."""
    return re.sub(r"y+", "yyyy", Locale.parse(locale).date_formats["short"].pattern)


@lru_cache(maxsize=64)
def instant_pattern(locale: str) -> str:
    """The one date-and-time pattern of ``locale``: its short date with a four-digit year, then its short time."""
    parsed = Locale.parse(locale)
    time = parsed.time_formats["short"].pattern
    return str(parsed.datetime_formats["short"]).replace("{1}", date_pattern(locale)).replace("{0}", time)


def format_instant(value: dt.datetime | None) -> str:
    """``value`` in the reader's zone and language, e.g. "3/11/2026, 12:30 AM" or "11.03.2026, 00:30"."""
    if value is None:
        return ""
    return format_datetime(value, instant_pattern(str(get_locale() or "en")))


def format_day(value: dt.date | None) -> str:
    """A calendar day in the reader's language, in the one date format: "3/11/2026", "11.03.2026"."""
    if value is None:
        return ""
    return format_date(value, date_pattern(str(get_locale() or "en")))


def format_relative(value: dt.datetime, now: dt.datetime | None = None) -> str:
    """``value`` relative to ``now`` in the reader's language: "in 2 hours", "3 days ago"."""
    now = now or dt.datetime.now(UTC)
    return format_timedelta(value - now, add_direction=True, threshold=0.9)


def time_tag(value: dt.datetime | None, now: dt.datetime | None = None) -> Markup:
    """A ``<time>`` element saying ``value`` relatively, the exact time in its title (shown on hover)."""
    if value is None:
        return Markup("")
    return Markup('<time datetime="{iso}" title="{exact}">{relative}</time>').format(
        iso=value.astimezone(UTC).isoformat(), exact=format_instant(value), relative=format_relative(value, now))


# -- due-date presets ------------------------------------------------------------------------------

def working_time(department: Department | None, zone: ZoneInfo) -> WorkingTime:
    """The working calendar presets follow: the department's (or its nearest ancestor's), else weekdays."""
    return WorkingTime.for_department(department) or WorkingTime(str(zone), DEFAULT_WEEK)


def due_presets(department: Department | None, zone: ZoneInfo, now: dt.datetime) -> dict[str, dt.datetime]:
    """Each preset's instant (UTC): the end of a working day of ``department``'s calendar.

    *Today*: the end of today's working hours while they are still ahead, else of the next working day.
    *Tomorrow* and *In a week*: the end of that day, or of the first working day after it when it is not
    one (a holiday, a weekend). *Next working day*: the end of the first working day after today.
    """
    calendar = working_time(department, zone)
    today = now.astimezone(calendar.zone).date()

    def end_of(day: dt.date) -> dt.datetime:
        day = calendar.next_working_day(day, include=True)
        return calendar.working_day_end(day)

    ends_today = calendar.working_day_end(today) if calendar.is_working_day(today) else None
    return {
        "today": ends_today if ends_today is not None and ends_today > now else end_of(today + dt.timedelta(days=1)),
        "tomorrow": end_of(today + dt.timedelta(days=1)),
        "next_working_day": calendar.working_day_end(calendar.next_working_day(today)),
        "week": end_of(today + dt.timedelta(days=7)),
    }


def preset_choices() -> list[tuple[str, str]]:
    """The presets for a select: "" (none) first."""
    return [("", "—")] + [(name, str(label)) for name, label in DUE_PRESETS.items()]


def resolve_due(preset: str | None, typed: dt.datetime | None, department: Department | None, zone: ZoneInfo,
                now: dt.datetime | None = None) -> dt.datetime | None:
    """The due date a form asks for: a chosen preset wins over the typed date and time."""
    if preset in DUE_PRESETS:
        return due_presets(department, zone, now or dt.datetime.now(UTC))[preset]
    return typed


def register_template_helpers(app) -> None:
    """``|localtime`` (exact), ``|reltime`` (relative with the exact time on hover) in every template."""
    app.add_template_filter(lambda value, fmt=None: format_instant(value), "localtime")
    app.add_template_filter(time_tag, "reltime")


__all__ = ["DUE_PRESETS", "due_presets", "format_instant", "format_relative", "instant_pattern", "preset_choices",
           "resolve_due", "time_tag"]


# -- the week as the reader's language counts it --------------------------------------------------------

def first_week_day(locale: str | None = None) -> int:
    """The first day of the week in ``locale`` (default: the reader's), 0 = Monday ... 6 = Sunday, from
    CLDR through Babel. A locale without a territory ("en", "zh_Hans") takes the territory its language is
    most likely used in (CLDR's likely subtags: en -> US, so Sunday; de -> DE, zh_Hans -> CN, so Monday)."""
    return _first_week_day(str(locale or get_locale() or "en"))


@lru_cache(maxsize=64)
def _first_week_day(locale: str) -> int:
    from babel.core import get_global
    parsed = Locale.parse(locale)
    if parsed.territory is None:
        likely = get_global("likely_subtags")
        for key in (str(parsed), f"{parsed.language}_{parsed.script}" if parsed.script else None, parsed.language):
            if key and key in likely:
                parsed = Locale.parse(likely[key])
                break
    return parsed.first_week_day


def week_start(day: dt.date, locale: str | None = None) -> dt.date:
    """The first day of the week that holds ``day``, as ``locale`` (default: the reader's) counts weeks."""
    return day - dt.timedelta(days=(day.weekday() - first_week_day(locale)) % 7)


def week_days(locale: str | None = None, width: str = "abbreviated") -> list[tuple[int, str]]:
    """``(ISO weekday, name)`` for the seven days in the order ``locale`` (default: the reader's) puts them
    in a calendar's header: Sunday first in American English, Monday first in German."""
    name = str(locale or get_locale() or "en")
    first, names = first_week_day(name), Locale.parse(name).days["format"][width]
    return [((first + i) % 7 + 1, names[(first + i) % 7]) for i in range(7)]
