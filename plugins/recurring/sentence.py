"""A recurrence in words: "every 2nd Tuesday at 09:00, Europe/Sofia"."""
from __future__ import annotations

import re

from flask_babel import gettext as _

from .schedule import Schedule

_DAY_CODES = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_BYDAY = re.compile(r"^([+-]?\d{1,2})?(MO|TU|WE|TH|FR|SA|SU)$")


def _day_names() -> dict[str, str]:
    return {"MO": _("Monday"), "TU": _("Tuesday"), "WE": _("Wednesday"), "TH": _("Thursday"), "FR": _("Friday"),
            "SA": _("Saturday"), "SU": _("Sunday")}


def _month_names() -> list[str]:
    return [_("January"), _("February"), _("March"), _("April"), _("May"), _("June"), _("July"), _("August"),
            _("September"), _("October"), _("November"), _("December")]


def ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th ... and -1 "last", -2 "2nd last"."""
    if n == -1:
        return _("last")
    if n < 0:
        return _("%(nth)s last", nth=ordinal(-n))
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def _join(items: list[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return _("%(items)s and %(last)s", items=", ".join(items[:-1]), last=items[-1])


def _ints(value: str | None) -> list[int]:
    return [int(v) for v in value.split(",") if v.strip()] if value else []


def _days(parts: dict[str, str]) -> list[tuple[int | None, str]]:
    found = []
    for code in (parts.get("BYDAY") or "").split(","):
        match = _BYDAY.match(code.strip().upper())
        if match:
            found.append((int(match.group(1)) if match.group(1) else None, match.group(2)))
    return found


def _times(schedule: Schedule) -> str:
    parts = schedule.parts
    hours = _ints(parts.get("BYHOUR")) or [schedule.start.hour]
    minutes = _ints(parts.get("BYMINUTE")) or [schedule.start.minute]
    return _join([f"{h:02d}:{m:02d}" for h in sorted(hours) for m in sorted(minutes)])


def _every(n: int, one: str, many: str) -> str:
    """"every week" / "every 2nd week"."""
    return one if n == 1 else _("every %(nth)s %(unit)s", nth=ordinal(n), unit=many)


def _weekday_list(days: list[tuple[int | None, str]]) -> str:
    names = _day_names()
    codes = [code for _n, code in days]
    if sorted(codes, key=_DAY_CODES.index) == list(_DAY_CODES[:5]):
        return _("weekday")
    return _join([names[c] for c in sorted(codes, key=_DAY_CODES.index)])


def _core(schedule: Schedule) -> str:
    parts, n, start = schedule.parts, schedule.interval, schedule.start
    freq, days, names = parts["FREQ"], _days(parts), _day_names()
    if freq == "MINUTELY":
        return _("every %(n)s minutes", n=n)
    if freq == "HOURLY":
        return _("every hour") if n == 1 else _("every %(n)s hours", n=n)
    if freq == "DAILY":
        if days:
            return _("every %(days)s", days=_weekday_list(days))
        return _every(n, _("every day"), _("day"))
    if freq == "WEEKLY":
        days = days or [(None, _DAY_CODES[start.weekday()])]
        if n == 1:
            return _("every %(days)s", days=_weekday_list(days))
        if len(days) == 1:
            return _("every %(nth)s %(day)s", nth=ordinal(n), day=names[days[0][1]])
        return _("every %(nth)s week on %(days)s", nth=ordinal(n), days=_weekday_list(days))
    period = _every(n, _("every month"), _("month")) if freq == "MONTHLY" else _every(n, _("every year"), _("year"))
    months = _ints(parts.get("BYMONTH"))
    setpos = _ints(parts.get("BYSETPOS"))
    if days and setpos:
        what = _("the %(nth)s %(day)s", nth=_join([ordinal(p) for p in setpos]), day=_weekday_list(days))
    elif days and all(nth is not None for nth, _code in days):
        what = _join([_("the %(nth)s %(day)s", nth=ordinal(nth), day=names[code]) for nth, code in days])
    elif days:
        what = _("every %(days)s", days=_weekday_list(days))
    else:
        monthdays = _ints(parts.get("BYMONTHDAY")) or [start.day]
        what = _join([_("the last day") if d == -1 else _("the %(nth)s", nth=ordinal(d)) for d in monthdays])
    if freq == "YEARLY":
        month_names = _month_names()
        in_months = _join([month_names[m - 1] for m in (months or [start.month])])
        return _("%(period)s on %(what)s of %(months)s", period=period, what=what, months=in_months)
    return _("on %(what)s of %(period)s", what=what, period=period)


def describe(schedule: Schedule, anchor: str = "schedule") -> str:
    """The whole sentence, with time of day, zone, end and exceptions."""
    freq = schedule.parts["FREQ"]
    if anchor == "completion":
        unit = {"YEARLY": _("year(s)"), "MONTHLY": _("month(s)"), "WEEKLY": _("week(s)"), "DAILY": _("day(s)"),
                "HOURLY": _("hour(s)"), "MINUTELY": _("minute(s)")}[freq]
        text = _("%(n)s %(unit)s after the previous one is done", n=schedule.interval, unit=unit)
    else:
        text = _core(schedule)
    if freq not in ("HOURLY", "MINUTELY"):
        text = _("%(text)s at %(times)s", text=text, times=_times(schedule))
    text = f"{text}, {schedule.timezone}"
    if schedule.count is not None:
        text = _("%(text)s, %(count)s times", text=text, count=schedule.count)
    if schedule.until is not None:
        text = _("%(text)s, until %(date)s", text=text,
                 date=schedule.local(schedule.until).strftime("%Y-%m-%d %H:%M"))
    if schedule.exdates:
        text = _("%(text)s, except %(n)s date(s)", text=text, n=len(schedule.exdates))
    return text
