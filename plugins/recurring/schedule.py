"""Occurrence arithmetic: RFC 5545 recurrences (python-dateutil) in IANA zones, working-day placement.

Times are computed as wall-clock times in the rule's zone and only then turned into instants, so
"every Monday 09:00 Europe/Sofia" stays 09:00 local across daylight-saving changes. A wall time in
the hour skipped in spring does not exist; following PEP 495 (fold=0) it is read with the offset in
force before the change, so it lands as much later as the gap is long (03:30 becomes 04:30 local).
A wall time in the hour repeated in autumn happens once, at its first (summer-time) instant.
"""
from __future__ import annotations

import calendar
import datetime as dt
import functools
import re
from dataclasses import dataclass
from typing import Iterator
from zoneinfo import ZoneInfo

from dateutil.relativedelta import relativedelta
from dateutil.rrule import rrule, rruleset, rrulestr
from flask_babel import gettext as _

from workdesk import WorkingTime
from workdesk import ValidationFailed, is_renderable_zone

UTC = dt.timezone.utc
FREQ_UNITS = {"YEARLY": "years", "MONTHLY": "months", "WEEKLY": "weeks", "DAILY": "days", "HOURLY": "hours",
              "MINUTELY": "minutes"}
_UNTIL = re.compile(r"UNTIL=(\d{8})(?:T(\d{6}))?(Z?)", re.IGNORECASE)
# Placing occurrences on working days never searches further than this for one occurrence.
MAX_SKIPPED = 5000
# dateutil keeps only the BYHOUR (BYMINUTE, BYSECOND) values an HOURLY (MINUTELY, SECONDLY) rule reaches from
# its DTSTART, so such a rule parsed for one DTSTART does not serve another.
_FILTERED_BY_DTSTART = {"HOURLY": "BYHOUR", "MINUTELY": "BYMINUTE", "SECONDLY": "BYSECOND"}
# Parts a rule may have and still be queried from a later period (see Schedule.occurrences_after). COUNT counts
# from DTSTART; BYWEEKDAY (dateutil's alias of BYDAY), BYEASTER (dateutil's own) and anything unknown are left
# out rather than reasoned about.
_REBASABLE_FREQS = {"DAILY", "WEEKLY", "MONTHLY", "YEARLY"}
_REBASABLE_PARTS = {"FREQ", "INTERVAL", "UNTIL", "WKST", "BYMONTH", "BYMONTHDAY", "BYYEARDAY", "BYWEEKNO", "BYDAY",
                    "BYSETPOS", "BYHOUR", "BYMINUTE", "BYSECOND"}
_WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


@dataclass(frozen=True)
class Slot:
    """One occurrence: ``scheduled`` is its identity (the RRULE instant), ``effective`` when it appears
    (different only when the non-working-day policy moved it). Both aware UTC."""
    scheduled: dt.datetime
    effective: dt.datetime

    @property
    def moved(self) -> bool:
        return self.scheduled != self.effective


def zone(name: str) -> ZoneInfo:
    if not is_renderable_zone(name):  # "Factory", "posix/..." and the like: zoneinfo loads them, pages cannot show them
        raise ValidationFailed(_("Invalid value."), {"timezone": [
            _("Not an IANA time zone (e.g. Europe/Sofia).")]})
    return ZoneInfo(name)


def parse_local(value: str, field: str) -> dt.datetime:
    """A naive local wall time from ``YYYY-MM-DDTHH:MM[:SS]`` (an offset would contradict the zone)."""
    try:
        parsed = dt.datetime.fromisoformat(str(value))
    except ValueError:
        raise ValidationFailed(_("Invalid value."), {field: [
            _("Use a local date and time like 2026-01-05T09:00 (the zone is given separately).")]}) from None
    if parsed.tzinfo is not None:
        raise ValidationFailed(_("Invalid value."), {field: [
            _("Give the local time without an offset; the rule's time zone applies.")]})
    return parsed.replace(microsecond=0)


def rrule_parts(text: str) -> dict[str, str]:
    parts = {}
    for chunk in text.split(";"):
        key, _sep, value = chunk.partition("=")
        if key:
            parts[key.strip().upper()] = value.strip()
    return parts


def normalise_rrule(text: str, tz: ZoneInfo) -> str:
    """Strip an ``RRULE:`` prefix; turn a local UNTIL into the UTC form RFC 5545 requires with a zoned DTSTART
    (a date-only UNTIL means the end of that local day)."""
    text = (text or "").strip()
    if text.upper().startswith("RRULE:"):
        text = text[6:].strip()

    def to_utc(match: re.Match) -> str:
        date, time, utc_flag = match.group(1), match.group(2), match.group(3)
        if utc_flag:
            return f"UNTIL={date}T{time or '235959'}Z"
        local = dt.datetime.strptime(date + (time or "235959"), "%Y%m%d%H%M%S").replace(tzinfo=tz)
        return "UNTIL=" + local.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    return _UNTIL.sub(to_utc, text)


@functools.lru_cache(maxsize=1024)
def _parsed_rrule(rrule_text: str, tz: ZoneInfo) -> rrule | None:
    """The RRULE parsed once for every DTSTART, or None when each rule must parse it itself.

    Parsing is most of a schedule's cost, and rules differ mostly by their DTSTART. ``replace(dtstart=...)``
    builds dateutil's rrule from the parsed values again, so what DTSTART implies (a weekly rule's weekday,
    a monthly rule's day, the time of day) is the rule's own. The placeholder DTSTART only has to be aware
    in the same zone (an UNTIL is checked against that). A text that does not parse is parsed, and refused,
    by each rule as before, with its own DTSTART.
    """
    parts = rrule_parts(rrule_text)
    if _FILTERED_BY_DTSTART.get(parts.get("FREQ", "")) in parts:
        return None
    try:
        parsed = rrulestr("RRULE:" + rrule_text, dtstart=dt.datetime(2000, 1, 1, tzinfo=tz))
    except (ValueError, TypeError, KeyError, IndexError):
        return None
    return parsed if isinstance(parsed, rrule) else None


def dtstart_defaults(parts: dict[str, str], start: dt.datetime) -> dict[str, int] | None:
    """What dateutil takes from DTSTART for the parts the rule leaves out, as explicit ``rrule`` arguments,
    or None when the rule cannot be queried from a later DTSTART (see ``Schedule.occurrences_after``).

    dateutil (``rrule.__init__``): without BYWEEKNO, BYYEARDAY, BYMONTHDAY, BYDAY and BYEASTER, a YEARLY rule
    takes DTSTART's month (unless BYMONTH) and day of month, a MONTHLY rule its day of month, a WEEKLY rule
    its weekday; a rule coarser than HOURLY takes DTSTART's hour, minute and second for BYHOUR, BYMINUTE
    and BYSECOND.
    """
    freq = parts.get("FREQ")
    if freq not in _REBASABLE_FREQS or not set(parts) <= _REBASABLE_PARTS:
        return None
    defaults: dict[str, int] = {}
    if not {"BYWEEKNO", "BYYEARDAY", "BYMONTHDAY", "BYDAY", "BYEASTER"} & set(parts):
        if freq == "YEARLY":
            if "BYMONTH" not in parts:
                defaults["bymonth"] = start.month
            defaults["bymonthday"] = start.day
        elif freq == "MONTHLY":
            defaults["bymonthday"] = start.day
        elif freq == "WEEKLY":
            defaults["byweekday"] = start.weekday()
    for part, name, value in (("BYHOUR", "byhour", start.hour), ("BYMINUTE", "byminute", start.minute),
                              ("BYSECOND", "bysecond", start.second)):
        if part not in parts:
            defaults[name] = value
    return defaults


class Schedule:
    """A rule's recurrence, ready to answer "which occurrences come after this instant"."""

    def __init__(self, *, timezone: str, dtstart: str, rrule: str, exdates: list[str] | None = None,
                 non_working_day: str = "create", working: WorkingTime | None = None):
        self.zone = zone(timezone)
        self.timezone = timezone
        self.start = parse_local(dtstart, "dtstart")
        self.rrule_text = normalise_rrule(rrule, self.zone)
        self.parts = rrule_parts(self.rrule_text)
        self.non_working_day = non_working_day
        self.working = working
        if not self.rrule_text or "\n" in self.rrule_text:
            raise ValidationFailed(_("Invalid value."), {"rrule": [
                _("Give one RRULE value such as FREQ=WEEKLY;BYDAY=MO.")]})
        if self.parts.get("FREQ") not in FREQ_UNITS:
            raise ValidationFailed(_("Invalid value."), {"rrule": [
                _("FREQ must be one of %(choices)s.", choices=", ".join(FREQ_UNITS))]})
        if "DTSTART" in self.parts:
            raise ValidationFailed(_("Invalid value."), {"rrule": [_("Give DTSTART in its own field.")]})
        start = self.start.replace(tzinfo=self.zone)
        parsed = _parsed_rrule(self.rrule_text, self.zone)
        try:
            recurrence = (rrulestr("RRULE:" + self.rrule_text, dtstart=start, forceset=True) if parsed is None
                          else parsed.replace(dtstart=start))
        except (ValueError, TypeError, KeyError, IndexError) as exc:
            raise ValidationFailed(_("Invalid value."), {"rrule": [
                _("Not a valid RFC 5545 RRULE: %(reason)s", reason=str(exc) or type(exc).__name__)]}) from None
        rule_only = recurrence
        self.exdates = [parse_local(value, "exdates") for value in (exdates or [])]
        self.set: rrule | rruleset = self._excluding(recurrence)
        # The rule itself, when it can be queried from a later period (parsed once: a plain rrule).
        self.defaults = dtstart_defaults(self.parts, self.start) if parsed is not None else None
        self.rule: rrule | None = rule_only if self.defaults is not None else None
        try:
            self.first = next(iter(self.set), None)
        except (ValueError, TypeError) as exc:
            raise ValidationFailed(_("Invalid value."), {"rrule": [str(exc)]}) from None
        if self.first is None:
            raise ValidationFailed(_("Invalid value."), {"rrule": [
                _("This recurrence has no occurrence (check UNTIL, COUNT and EXDATE).")]})

    # -- reading the rule ------------------------------------------------------------------------

    @property
    def interval(self) -> int:
        return max(1, int(self.parts.get("INTERVAL", "1") or 1))

    @property
    def period(self) -> relativedelta:
        return relativedelta(**{FREQ_UNITS[self.parts["FREQ"]]: self.interval})

    @property
    def count(self) -> int | None:
        return int(self.parts["COUNT"]) if "COUNT" in self.parts else None

    @property
    def until(self) -> dt.datetime | None:
        match = _UNTIL.search(self.rrule_text)
        if not match:
            return None
        return dt.datetime.strptime(match.group(1) + (match.group(2) or "235959"), "%Y%m%d%H%M%S").replace(tzinfo=UTC)

    def aware(self, local: dt.datetime) -> dt.datetime:
        """A local wall time of this zone as a UTC instant (fold=0, see the module docstring)."""
        return local.replace(tzinfo=self.zone, fold=0).astimezone(UTC)

    def local(self, instant: dt.datetime) -> dt.datetime:
        return instant.astimezone(self.zone)

    # -- querying --------------------------------------------------------------------------------

    def period_start(self, day: dt.date) -> dt.datetime | None:
        """The start (local midnight) of the latest "on" period of FREQ and INTERVAL that begins on or before
        ``day`` and after DTSTART's own period, or None when there is none.

        dateutil counts periods from DTSTART's: its day, its week (weeks begin on WKST; without it on
        ``calendar.firstweekday()``, Monday unless a program changes it), its month, its year; every
        INTERVAL-th one is on.
        """
        freq, start, interval = self.parts["FREQ"], self.start.date(), self.interval
        if freq == "DAILY":
            steps = (day - start).days // interval * interval
            first = start + dt.timedelta(days=steps)
        elif freq == "WEEKLY":
            wkst = _WEEKDAYS.index(self.parts["WKST"].upper()) if "WKST" in self.parts else calendar.firstweekday()
            week = start - dt.timedelta(days=(start.weekday() - wkst) % 7)
            steps = ((day - week).days // 7) // interval * interval
            first = week + dt.timedelta(weeks=steps)
        elif freq == "MONTHLY":
            steps = ((day.year - start.year) * 12 + day.month - start.month) // interval * interval
            first = dt.date(start.year + (start.month - 1 + steps) // 12, (start.month - 1 + steps) % 12 + 1, 1)
        else:
            steps = (day.year - start.year) // interval * interval
            first = dt.date(start.year + steps, 1, 1)
        return dt.datetime.combine(first, dt.time()) if steps > 0 else None

    def occurrences_after(self, after: dt.datetime) -> Iterator[dt.datetime]:
        """The occurrences strictly after ``after`` (aware, in the rule's zone), as ``self.set.xafter`` gives.

        dateutil finds them by walking every period from DTSTART, so the cost grows with the rule's age.
        Without COUNT, a rule whose DTSTART-derived parts are made explicit (``dtstart_defaults``) and whose
        DTSTART is moved to the start of a later "on" period has the same occurrences from that period on:
        each period's candidates depend only on the period and the BY parts (BYSETPOS picks among the whole
        period's, as the period starts at midnight on its first day), and DTSTART only drops the candidates
        before it. Other rules (COUNT, HOURLY and finer, text parsed per rule) are walked from DTSTART.
        """
        first = self.period_start(after.date()) if self.rule is not None else None
        if first is None:
            return self.set.xafter(after, inc=False)
        rebased = self.rule.replace(dtstart=first.replace(tzinfo=self.zone), **self.defaults)
        return self._excluding(rebased).xafter(after, inc=False)

    def _excluding(self, recurrence: rrule | rruleset) -> rrule | rruleset:
        """``recurrence`` without the EXDATEs. Without any, an rrule is queried directly: the same occurrences,
        and no garbage left for the cyclic collector (an rruleset's query leaves its iterators in cycles)."""
        if not self.exdates:
            return recurrence
        if not isinstance(recurrence, rruleset):
            recurrence, single = rruleset(), recurrence
            recurrence.rrule(single)
        for excluded in self.exdates:
            recurrence.exdate(excluded.replace(tzinfo=self.zone))
        return recurrence

    # -- placement -------------------------------------------------------------------------------

    def place(self, occurrence: dt.datetime) -> dt.datetime | None:
        """Where an occurrence (aware, in the rule's zone) appears under the non-working-day policy, or None
        when it is skipped. Working days are judged on the occurrence's date in the rule's zone."""
        day = occurrence.date()
        if self.working is None or self.non_working_day == "create" or self.working.is_working_day(day):
            return self.aware(occurrence.replace(tzinfo=None))
        if self.non_working_day == "skip":
            return None
        try:
            target = (self.working.previous_working_day(day) if self.non_working_day == "previous"
                      else self.working.next_working_day(day))
        except ValueError:  # a calendar without any working day: nothing can be placed
            return None
        return self.aware(dt.datetime.combine(target, occurrence.time()))

    def slots_after(self, after: dt.datetime | None, last_effective: dt.datetime | None = None) -> Iterator[Slot]:
        """Occurrences scheduled strictly after ``after`` (from the start when None), in order.

        An occurrence whose effective instant is not after the previous one's is merged into it: a daily
        rule moved off a weekend gives one task on Monday, not three.
        """
        source = self.occurrences_after(after.astimezone(self.zone)) if after is not None else iter(self.set)
        skipped = 0
        for occurrence in source:
            effective = self.place(occurrence)
            if effective is None or (last_effective is not None and effective <= last_effective):
                skipped += 1
                if skipped > MAX_SKIPPED:
                    return
                continue
            skipped = 0
            last_effective = effective
            yield Slot(occurrence.astimezone(UTC), effective)

    def after_completion(self, done_at: dt.datetime, created: int) -> Slot | None:
        """The next occurrence of a completion-anchored rule: INTERVAL x FREQ after the previous one was done,
        on that local day at DTSTART's time of day (hourly and minutely rules: exactly that long after).
        None once UNTIL has passed or COUNT occurrences exist."""
        if self.count is not None and created >= self.count:
            return None
        done_local = self.local(done_at).replace(tzinfo=None)
        if self.parts["FREQ"] in ("HOURLY", "MINUTELY"):
            candidate = done_local.replace(microsecond=0) + self.period
        else:
            candidate = dt.datetime.combine((done_local + self.period).date(), self.start.time())
        excluded = set(self.exdates)
        for _attempt in range(MAX_SKIPPED):
            scheduled = self.aware(candidate)
            if self.until is not None and scheduled > self.until:
                return None
            effective = self.place(candidate.replace(tzinfo=self.zone)) if candidate not in excluded else None
            if effective is not None:
                return Slot(scheduled, effective)
            candidate += self.period
        return None
