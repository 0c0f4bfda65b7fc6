"""A recurrence in words: "every 2 weeks on Tuesday at 9:00 AM, Europe/Sofia", in the reader's language.

Nothing here assembles grammar in code. Each phrase is a whole message of the plugin's catalog
(counts through ``ngettext``, so every language picks its CLDR plural form; "the first Monday" is one
message per weekday, so a language whose ordinals agree with the day's gender can say so), and dates,
times and lists are formatted by Babel for the current locale.
"""
from __future__ import annotations

import datetime as dt
import re

from babel import Locale
from babel.dates import format_datetime, format_skeleton, format_time, get_month_names
from babel.lists import format_list
from flask_babel import get_locale, gettext as _, ngettext, pgettext

from workdesk import dates as workdesk_dates

from .schedule import Schedule

_DAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_BYDAY = re.compile(r"^([+-]?\d{1,2})?(MO|TU|WE|TH|FR|SA|SU)$")


def _locale() -> Locale:
    return get_locale() or Locale("en")


def _join(items: list[str]) -> str:
    return format_list(items, locale=_locale()) if items else ""


def _every_day_names() -> dict[str, str]:
    """Weekday names as they stand after "every" / "on" (Russian, for one, puts them in the dative plural)."""
    return {"MO": pgettext("every", "Monday"), "TU": pgettext("every", "Tuesday"),
            "WE": pgettext("every", "Wednesday"), "TH": pgettext("every", "Thursday"),
            "FR": pgettext("every", "Friday"), "SA": pgettext("every", "Saturday"),
            "SU": pgettext("every", "Sunday")}


def _nth_weekday(nth: int, code: str) -> str:
    """"on the first Monday" … "on the last Sunday": whole phrases, so the ordinal agrees with the day."""
    phrases = {
        "MO": (_("on the first Monday"), _("on the second Monday"), _("on the third Monday"),
               _("on the fourth Monday"), _("on the last Monday")),
        "TU": (_("on the first Tuesday"), _("on the second Tuesday"), _("on the third Tuesday"),
               _("on the fourth Tuesday"), _("on the last Tuesday")),
        "WE": (_("on the first Wednesday"), _("on the second Wednesday"), _("on the third Wednesday"),
               _("on the fourth Wednesday"), _("on the last Wednesday")),
        "TH": (_("on the first Thursday"), _("on the second Thursday"), _("on the third Thursday"),
               _("on the fourth Thursday"), _("on the last Thursday")),
        "FR": (_("on the first Friday"), _("on the second Friday"), _("on the third Friday"),
               _("on the fourth Friday"), _("on the last Friday")),
        "SA": (_("on the first Saturday"), _("on the second Saturday"), _("on the third Saturday"),
               _("on the fourth Saturday"), _("on the last Saturday")),
        "SU": (_("on the first Sunday"), _("on the second Sunday"), _("on the third Sunday"),
               _("on the fourth Sunday"), _("on the last Sunday")),
    }[code]
    if 1 <= nth <= 4:
        return phrases[nth - 1]
    if nth == -1:
        return phrases[4]
    return _numbered(nth, _every_day_names()[code])


def _numbered(nth: int, days: str) -> str:
    """Positions without a phrase of their own (the 5th, the 2nd from the end) as numbers."""
    if nth < 0:
        return _("on %(days)s number %(n)s from the end", days=days, n=-nth)
    return _("on %(days)s number %(n)s", days=days, n=nth)


def _ints(value: str | None) -> list[int]:
    return [int(v) for v in value.split(",") if v.strip()] if value else []


def _days(parts: dict[str, str]) -> list[tuple[int | None, str]]:
    found = []
    for code in (parts.get("BYDAY") or "").split(","):
        match = _BYDAY.match(code.strip().upper())
        if match:
            found.append((int(match.group(1)) if match.group(1) else None, match.group(2)))
    return found


def _is_workweek(codes: list[str]) -> bool:
    return sorted(codes, key=_DAY_CODES.index) == list(_DAY_CODES[:5])


def _day_list(codes: list[str]) -> str:
    names = _every_day_names()
    return _join([names[c] for c in sorted(set(codes), key=_DAY_CODES.index)])


def _times(schedule: Schedule) -> str:
    parts = schedule.parts
    hours = _ints(parts.get("BYHOUR")) or [schedule.start.hour]
    minutes = _ints(parts.get("BYMINUTE")) or [schedule.start.minute]
    return _join([format_time(dt.time(h, m), "short", locale=_locale())
                  for h in sorted(hours) for m in sorted(minutes)])


def _period(freq: str, n: int) -> str:
    """"every month" / "every 3 months"."""
    if freq == "MINUTELY":
        return _("every minute") if n == 1 else ngettext("every %(num)d minute", "every %(num)d minutes", n)
    if freq == "HOURLY":
        return _("every hour") if n == 1 else ngettext("every %(num)d hour", "every %(num)d hours", n)
    if freq == "DAILY":
        return _("every day") if n == 1 else ngettext("every %(num)d day", "every %(num)d days", n)
    if freq == "WEEKLY":
        return _("every week") if n == 1 else ngettext("every %(num)d week", "every %(num)d weeks", n)
    if freq == "MONTHLY":
        return _("every month") if n == 1 else ngettext("every %(num)d month", "every %(num)d months", n)
    return _("every year") if n == 1 else ngettext("every %(num)d year", "every %(num)d years", n)


def _weekly(codes: list[str], n: int) -> str:
    """"every weekday", "every Monday and Friday", "every 2 weeks on Tuesday"."""
    if n == 1:
        return _("every weekday") if _is_workweek(codes) else _("every %(days)s", days=_day_list(codes))
    if _is_workweek(codes):
        return ngettext("every %(num)d week on weekdays", "every %(num)d weeks on weekdays", n)
    return ngettext("every %(num)d week on %(days)s", "every %(num)d weeks on %(days)s", n, days=_day_list(codes))


def _within_period(schedule: Schedule, days: list[tuple[int | None, str]]) -> str:
    """Which day(s) of the month or year: "on the last weekday", "on days 1 and 15", "on the first Monday"."""
    parts, start = schedule.parts, schedule.start
    setpos = _ints(parts.get("BYSETPOS"))
    codes = [code for _nth, code in days]
    if days and setpos:
        if _is_workweek(codes) and setpos == [1]:
            return _("on the first weekday")
        if _is_workweek(codes) and setpos == [-1]:
            return _("on the last weekday")
        return _join([_numbered(p, _day_list(codes)) for p in setpos])
    if days and all(nth is not None for nth, _code in days):
        return _join([_nth_weekday(nth, code) for nth, code in days])
    if days:
        return _("every %(days)s", days=_day_list(codes))
    monthdays = _ints(parts.get("BYMONTHDAY")) or [start.day]
    phrases = []
    numbered = [d for d in monthdays if d > 0]
    if numbered:
        phrases.append(ngettext("on day %(days)s", "on days %(days)s", len(numbered),
                                days=_join([str(d) for d in numbered])))
    if -1 in monthdays:
        phrases.append(_("on the last day"))
    return _join(phrases)


def _core(schedule: Schedule) -> str:
    parts, n, start = schedule.parts, schedule.interval, schedule.start
    freq, days = parts["FREQ"], _days(parts)
    if freq in ("MINUTELY", "HOURLY"):
        return _period(freq, n)
    if freq == "DAILY":
        return _weekly([code for _nth, code in days], 1) if days else _period(freq, n)
    if freq == "WEEKLY":
        return _weekly([code for _nth, code in days] or [_DAY_CODES[start.weekday()]], n)
    months = _ints(parts.get("BYMONTH"))
    period = _period(freq, n)
    if freq == "YEARLY" and not days and not parts.get("BYMONTHDAY"):
        # "every year on March 5": the date as the locale writes a day of a month.
        dates = _join([format_skeleton("MMMMd", dt.date(2000, m, start.day), locale=_locale())
                       for m in (months or [start.month])])
        return _("%(period)s on %(dates)s", period=period, dates=dates)
    what = _within_period(schedule, days)
    if freq == "YEARLY":
        names = get_month_names("wide", context="format", locale=_locale())
        what = _("%(what)s of %(months)s", what=what,
                 months=_join([names[m] for m in (months or [start.month])]))
    return _("%(period)s %(what)s", period=period, what=what)


def _after_completion(freq: str, n: int) -> str:
    if freq == "YEARLY":
        return ngettext("%(num)d year after the previous one is done",
                        "%(num)d years after the previous one is done", n)
    if freq == "MONTHLY":
        return ngettext("%(num)d month after the previous one is done",
                        "%(num)d months after the previous one is done", n)
    if freq == "WEEKLY":
        return ngettext("%(num)d week after the previous one is done",
                        "%(num)d weeks after the previous one is done", n)
    if freq == "DAILY":
        return ngettext("%(num)d day after the previous one is done",
                        "%(num)d days after the previous one is done", n)
    if freq == "HOURLY":
        return ngettext("%(num)d hour after the previous one is done",
                        "%(num)d hours after the previous one is done", n)
    return ngettext("%(num)d minute after the previous one is done",
                    "%(num)d minutes after the previous one is done", n)


def describe(schedule: Schedule, anchor: str = "schedule") -> str:
    """The whole sentence in the current locale, with time of day, zone, end and exceptions."""
    freq = schedule.parts["FREQ"]
    text = _after_completion(freq, schedule.interval) if anchor == "completion" else _core(schedule)
    if freq not in ("HOURLY", "MINUTELY"):
        text = _("%(text)s at %(times)s", text=text, times=_times(schedule))
    text = _("%(text)s, %(zone)s", text=text, zone=schedule.timezone)
    if schedule.count is not None:
        text = ngettext("%(text)s, %(num)d time", "%(text)s, %(num)d times", schedule.count, text=text)
    if schedule.until is not None:
        text = _("%(text)s, until %(date)s", text=text,
                 date=format_datetime(schedule.local(schedule.until).replace(tzinfo=None),
                                      workdesk_dates.instant_pattern(str(_locale())), locale=_locale()))
    if schedule.exdates:
        text = ngettext("%(text)s, except %(num)d date", "%(text)s, except %(num)d dates", len(schedule.exdates),
                        text=text)
    return text
