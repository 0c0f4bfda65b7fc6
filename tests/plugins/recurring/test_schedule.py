"""Occurrence arithmetic in IANA zones: DST in both directions, month ends, EXDATE, COUNT/UNTIL, sentences."""
from __future__ import annotations

import datetime as dt

import pytest

from workdesk.errors import ValidationFailed
from workdesk.services.calendars import WorkingTime
from workdesk.plugins.recurring.schedule import Schedule
from workdesk.plugins.recurring.sentence import describe

from .conftest import at


def local_times(schedule: Schedule, n: int, after: str | None = None) -> list[str]:
    slots = schedule.slots_after(at(after) if after else None)
    return [schedule.local(next(slots).effective).strftime("%Y-%m-%d %H:%M %z") for _ in range(n)]


def test_weekly_stays_at_local_time_across_spring_and_autumn_changes():
    schedule = Schedule(timezone="Europe/Sofia", dtstart="2026-03-16T09:00", rrule="FREQ=WEEKLY;BYDAY=MO")
    assert local_times(schedule, 3) == ["2026-03-16 09:00 +0200", "2026-03-23 09:00 +0200", "2026-03-30 09:00 +0300"]
    assert local_times(schedule, 2, after="2026-10-20T00:00Z") == ["2026-10-26 09:00 +0200", "2026-11-02 09:00 +0200"]
    utc = [s.effective for s, _ in zip(schedule.slots_after(at("2026-03-20T00:00Z")), range(2))]
    assert utc == [at("2026-03-23T07:00Z"), at("2026-03-30T06:00Z")]  # same wall time, one hour earlier in UTC


def test_skipped_local_hour_moves_forward_by_the_gap_and_repeated_hour_happens_once():
    # Europe/Sofia: 2026-03-29 03:00 -> 04:00 (03:30 does not exist); 2026-10-25 04:00 -> 03:00 (03:30 twice).
    schedule = Schedule(timezone="Europe/Sofia", dtstart="2026-03-28T03:30", rrule="FREQ=DAILY;COUNT=3")
    assert local_times(schedule, 3) == ["2026-03-28 03:30 +0200", "2026-03-29 04:30 +0300", "2026-03-30 03:30 +0300"]
    autumn = Schedule(timezone="Europe/Sofia", dtstart="2026-10-24T03:30", rrule="FREQ=DAILY;COUNT=3")
    slots = list(autumn.slots_after(None))
    assert [s.effective for s in slots] == [at("2026-10-24T00:30Z"), at("2026-10-25T00:30Z"), at("2026-10-26T01:30Z")]


def test_hourly_rule_over_the_spring_gap_gives_no_duplicate_instant():
    schedule = Schedule(timezone="Europe/Sofia", dtstart="2026-03-29T01:00", rrule="FREQ=HOURLY;COUNT=5")
    instants = [s.effective for s in schedule.slots_after(None)]
    assert len(instants) == len(set(instants))
    assert all(b > a for a, b in zip(instants, instants[1:]))


def test_31st_skips_short_months_and_last_weekday_of_month():
    schedule = Schedule(timezone="UTC", dtstart="2026-01-31T08:00", rrule="FREQ=MONTHLY;BYMONTHDAY=31")
    assert [d[:10] for d in local_times(schedule, 4)] == ["2026-01-31", "2026-03-31", "2026-05-31", "2026-07-31"]
    last_day = Schedule(timezone="UTC", dtstart="2026-01-31T08:00", rrule="FREQ=MONTHLY;BYMONTHDAY=-1")
    assert [d[:10] for d in local_times(last_day, 3)] == ["2026-01-31", "2026-02-28", "2026-03-31"]
    weekday = Schedule(timezone="UTC", dtstart="2026-01-01T08:00",
                       rrule="FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1")
    # January 2026 ends on a Saturday, May on a Sunday: the last weekday is the Friday before.
    assert [d[:10] for d in local_times(weekday, 5)] == ["2026-01-30", "2026-02-27", "2026-03-31", "2026-04-30",
                                                          "2026-05-29"]


def test_exdate_count_and_until():
    schedule = Schedule(timezone="Europe/Sofia", dtstart="2026-01-05T09:00", rrule="FREQ=WEEKLY;COUNT=4",
                        exdates=["2026-01-12T09:00"])
    assert [d[:10] for d in local_times(schedule, 3)] == ["2026-01-05", "2026-01-19", "2026-01-26"]
    assert list(schedule.slots_after(at("2026-01-27T00:00Z"))) == []  # COUNT counts the excluded one too (RFC 5545)
    local_until = Schedule(timezone="Europe/Sofia", dtstart="2026-01-05T09:00", rrule="FREQ=WEEKLY;UNTIL=20260119")
    assert len(list(local_until.slots_after(None))) == 3  # a local date UNTIL includes that whole day
    assert "UNTIL=20260119T215959Z" in local_until.rrule_text


def test_non_working_day_policies_use_the_working_calendar():
    working = WorkingTime("Europe/Sofia", {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")},
                          holidays={dt.date(2026, 3, 3)})
    common = {"timezone": "Europe/Sofia", "dtstart": "2026-03-01T08:00", "rrule": "FREQ=DAILY;COUNT=7"}
    # 1 March 2026 is a Sunday; 3 March a holiday.
    create = Schedule(**common, non_working_day="create", working=working)
    assert [d[:10] for d in local_times(create, 7)][:3] == ["2026-03-01", "2026-03-02", "2026-03-03"]
    skip = Schedule(**common, non_working_day="skip", working=working)
    assert [d[:10] for d in local_times(skip, 4)] == ["2026-03-02", "2026-03-04", "2026-03-05", "2026-03-06"]
    following = Schedule(**common, non_working_day="next", working=working)
    slots = list(following.slots_after(None))
    # Sunday moves onto Monday (merged with Monday's own), the holiday onto Wednesday (merged), Saturday onto Monday 9th.
    assert [following.local(s.effective).date().isoformat() for s in slots] == [
        "2026-03-02", "2026-03-04", "2026-03-05", "2026-03-06", "2026-03-09"]
    assert slots[0].moved and slots[0].scheduled == at("2026-03-01T06:00Z")
    previous = Schedule(**common, non_working_day="previous", working=working)
    assert [previous.local(s.effective).date().isoformat() for s in previous.slots_after(None)] == [
        "2026-02-27", "2026-03-02", "2026-03-04", "2026-03-05", "2026-03-06"]


@pytest.mark.parametrize("field, kwargs, message", [
    ("timezone", {"timezone": "Mars/Olympus"}, "IANA"),
    ("rrule", {"rrule": "FREQ=FORTNIGHTLY"}, "FREQ must be one of"),
    ("rrule", {"rrule": "FREQ=WEEKLY;BYDAY=XX"}, "Not a valid RFC 5545 RRULE"),
    ("rrule", {"rrule": "FREQ=WEEKLY;UNTIL=20250101T000000Z"}, "no occurrence"),
    ("dtstart", {"dtstart": "next monday"}, "local date and time"),
    ("dtstart", {"dtstart": "2026-01-05T09:00+02:00"}, "without an offset"),
    ("exdates", {"exdates": ["soon"]}, "local date and time"),
])
def test_invalid_recurrence_names_the_field(field, kwargs, message):
    values = {"timezone": "UTC", "dtstart": "2026-01-05T09:00", "rrule": "FREQ=WEEKLY", **kwargs}
    with pytest.raises(ValidationFailed) as caught:
        Schedule(**values)
    assert list(caught.value.fields) == [field]
    assert message in caught.value.fields[field][0]


@pytest.mark.parametrize("rrule, dtstart, expected", [
    ("FREQ=WEEKLY;INTERVAL=2;BYDAY=TU", "2026-01-06T09:00", "every 2 weeks on Tuesday at 9:00\u202fAM, Europe/Sofia"),
    ("FREQ=WEEKLY;BYDAY=MO", "2026-01-05T09:00", "every Monday at 9:00\u202fAM, Europe/Sofia"),
    ("FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR", "2026-01-05T07:30", "every weekday at 7:30\u202fAM, Europe/Sofia"),
    ("FREQ=MONTHLY;BYMONTHDAY=31", "2026-01-31T09:00", "every month on day 31 at 9:00\u202fAM, Europe/Sofia"),
    ("FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1", "2026-01-30T16:00",
     "every month on the last weekday at 4:00\u202fPM, Europe/Sofia"),
    ("FREQ=MONTHLY;BYDAY=-1FR", "2026-01-30T16:00", "every month on the last Friday at 4:00\u202fPM, Europe/Sofia"),
    ("FREQ=YEARLY;COUNT=3", "2026-03-05T10:00", "every year on March 5 at 10:00\u202fAM, Europe/Sofia, 3 times"),
    ("FREQ=HOURLY;INTERVAL=4", "2026-01-05T09:00", "every 4 hours, Europe/Sofia"),
])
def test_human_sentence(rrule, dtstart, expected):
    assert describe(Schedule(timezone="Europe/Sofia", dtstart=dtstart, rrule=rrule)) == expected


def test_sentence_for_completion_anchor_and_exceptions():
    schedule = Schedule(timezone="Europe/Sofia", dtstart="2026-01-05T09:00", rrule="FREQ=DAILY;INTERVAL=7",
                        exdates=["2026-01-12T09:00"])
    assert describe(schedule, anchor="completion") == (
        "7 days after the previous one is done at 9:00\u202fAM, Europe/Sofia, except 1 date")


def test_an_end_reads_in_the_one_date_format_with_a_four_digit_year(workdesk_app):
    import flask_babel
    schedule = Schedule(timezone="Europe/Sofia", dtstart="2026-01-05T09:00",
                        rrule="FREQ=WEEKLY;BYDAY=MO;UNTIL=20260330T070000Z")
    assert describe(schedule) == "every Monday at 9:00\u202fAM, Europe/Sofia, until 3/30/2026, 10:00\u202fAM"
    with workdesk_app.test_request_context(), flask_babel.force_locale("de"):
        assert describe(schedule).endswith("30.03.2026, 10:00")


@pytest.mark.parametrize("locale, rrule, dtstart, expected", [
    ("ru", "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU", "2026-01-06T09:00", "каждые 2 недели по вторникам в 09:00, Europe/Sofia"),
    ("ru", "FREQ=MONTHLY;BYDAY=-1FR", "2026-01-30T16:00", "каждый месяц в последнюю пятницу в 16:00, Europe/Sofia"),
    ("ru", "FREQ=WEEKLY;INTERVAL=21;BYDAY=WE", "2026-01-07T09:00", "каждую 21 неделю по средам в 09:00, Europe/Sofia"),
    ("vi", "FREQ=MONTHLY;BYDAY=2TU", "2026-01-13T09:00", "hằng tháng vào thứ Ba thứ hai lúc 09:00, Europe/Sofia"),
    ("zh_Hans", "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU", "2026-01-06T09:00", "每 2 周的周二 09:00，Europe/Sofia"),
    ("zh_Hans", "FREQ=YEARLY;COUNT=3", "2026-03-05T10:00", "每年的3月5日 10:00，Europe/Sofia，共 3 次"),
    ("de", "FREQ=MONTHLY;BYDAY=1MO", "2026-01-05T09:00", "monatlich am ersten Montag um 09:00, Europe/Sofia"),
])
def test_sentence_reads_naturally_in_the_readers_language(workdesk_app, locale, rrule, dtstart, expected):
    """Whole-sentence messages and Babel's formats: no English ordinal is assembled in code."""
    import flask_babel
    with workdesk_app.test_request_context(), flask_babel.force_locale(locale):
        assert describe(Schedule(timezone="Europe/Sofia", dtstart=dtstart, rrule=rrule)) == expected


def test_rules_sharing_an_rrule_each_get_their_own_dtstart_zone_and_dst():
    # Parsed once per (RRULE, zone) and derived per DTSTART: what DTSTART implies stays each rule's own.
    sofia_monday = Schedule(timezone="Europe/Sofia", dtstart="2026-03-23T09:00", rrule="FREQ=WEEKLY")
    sofia_tuesday = Schedule(timezone="Europe/Sofia", dtstart="2026-03-24T07:30", rrule="FREQ=WEEKLY")
    new_york = Schedule(timezone="America/New_York", dtstart="2026-03-02T09:00", rrule="FREQ=WEEKLY")
    # Sofia moves to summer time on 29 March, New York on 8 March: 09:00 local stays 09:00 local.
    assert local_times(sofia_monday, 2) == ["2026-03-23 09:00 +0200", "2026-03-30 09:00 +0300"]
    assert local_times(sofia_tuesday, 2) == ["2026-03-24 07:30 +0200", "2026-03-31 07:30 +0300"]
    assert local_times(new_york, 2) == ["2026-03-02 09:00 -0500", "2026-03-09 09:00 -0400"]
    until = "FREQ=DAILY;UNTIL=20260330"  # a local UNTIL: the end of that day in each rule's own zone
    sofia = Schedule(timezone="Europe/Sofia", dtstart="2026-03-29T23:30", rrule=until)
    assert [sofia.local(s.effective).strftime("%d %H:%M %z") for s in sofia.slots_after(None)] == [
        "29 23:30 +0300", "30 23:30 +0300"]
    utc = Schedule(timezone="UTC", dtstart="2026-03-29T23:30", rrule=until)
    assert "UNTIL=20260330T235959Z" in utc.rrule_text and "UNTIL=20260330T205959Z" in sofia.rrule_text


@pytest.mark.parametrize("timezone", ["UTC", "Europe/Sofia", "America/New_York"])
@pytest.mark.parametrize("rrule", ["FREQ=DAILY", "FREQ=WEEKLY", "FREQ=MONTHLY", "FREQ=YEARLY;COUNT=3",
                                   "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU,FR", "FREQ=MONTHLY;BYDAY=-1FR",
                                   "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1", "FREQ=HOURLY;INTERVAL=5",
                                   "FREQ=HOURLY;INTERVAL=2;BYHOUR=9,10,11",
                                   "FREQ=MINUTELY;INTERVAL=15;BYMINUTE=0,20,45",
                                   "FREQ=DAILY;UNTIL=20260420", "FREQ=WEEKLY;WKST=SU;INTERVAL=2;BYDAY=MO,SU"])
def test_occurrences_equal_dateutils_own_parse_for_every_dtstart(rrule, timezone):
    from itertools import islice
    from dateutil.rrule import rrulestr
    from workdesk.plugins.recurring.schedule import normalise_rrule, zone
    for dtstart in ("2026-03-02T09:00", "2026-03-24T10:20:30", "2026-03-31T23:45", "2026-01-01T00:00"):
        for exdates in ([], ["2026-04-14T09:00"]):
            schedule = Schedule(timezone=timezone, dtstart=dtstart, rrule=rrule, exdates=exdates)
            start = dt.datetime.fromisoformat(dtstart).replace(tzinfo=zone(timezone))
            reference = rrulestr("RRULE:" + normalise_rrule(rrule, zone(timezone)), dtstart=start, forceset=True)
            for excluded in exdates:
                reference.exdate(dt.datetime.fromisoformat(excluded).replace(tzinfo=zone(timezone)))
            assert list(islice(schedule.set, 60)) == list(islice(reference, 60)), (dtstart, exdates)


# -- occurrences after a point, from a later period (a rule's age does not cost) -------------------

REBASE_ZONES = ["UTC", "Europe/Sofia", "America/New_York", "Asia/Shanghai"]
REBASE_RRULES = [
    "FREQ=DAILY", "FREQ=DAILY;INTERVAL=3", "FREQ=DAILY;BYHOUR=8,13,17;BYMINUTE=0,30",
    "FREQ=DAILY;INTERVAL=2;BYDAY=MO,WE,FR", "FREQ=DAILY;BYMONTH=3,11;BYHOUR=2,3",
    "FREQ=WEEKLY", "FREQ=WEEKLY;INTERVAL=2", "FREQ=WEEKLY;INTERVAL=3;BYDAY=TU,SA",
    "FREQ=WEEKLY;WKST=SU;INTERVAL=2;BYDAY=MO,SU", "FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=1,-1",
    "FREQ=WEEKLY;BYMONTH=1,6", "FREQ=MONTHLY", "FREQ=MONTHLY;INTERVAL=5", "FREQ=MONTHLY;BYMONTHDAY=31",
    "FREQ=MONTHLY;BYMONTHDAY=-1;BYHOUR=9,18", "FREQ=MONTHLY;INTERVAL=2;BYDAY=2TU", "FREQ=MONTHLY;BYDAY=-1FR",
    "FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1", "FREQ=MONTHLY;INTERVAL=4;BYDAY=SA,SU;BYSETPOS=2",
    "FREQ=YEARLY", "FREQ=YEARLY;INTERVAL=2", "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=29", "FREQ=YEARLY;BYMONTH=3,10",
    "FREQ=YEARLY;INTERVAL=3;BYDAY=-1SU;BYMONTH=3", "FREQ=YEARLY;BYWEEKNO=1;BYDAY=MO", "FREQ=YEARLY;BYYEARDAY=1,-1",
    "FREQ=DAILY;UNTIL=20270315", "FREQ=WEEKLY;BYDAY=TH;UNTIL=20261203T080000Z", "FREQ=MONTHLY;COUNT=90",
    "FREQ=DAILY;INTERVAL=2;COUNT=900", "FREQ=HOURLY;INTERVAL=5", "FREQ=HOURLY;INTERVAL=7;BYHOUR=1,8,15",
]
# Years in the past, not occurrences of most rules, a leap day, the Sofia/New York DST days, a 31st.
REBASE_DTSTARTS = ["2019-02-28T09:00", "2020-02-29T23:30:15", "2021-11-30T00:00", "2024-03-31T03:30",
                   "2025-11-02T01:30", "2026-01-31T10:20:30"]
REBASE_AFTERS = ["2026-11-30T05:00:00+00:00", "2027-03-28T01:30:00+00:00", "2020-03-01T00:00:00+00:00"]


def rebase_mismatches(rrule: str, timezone: str) -> tuple[list[tuple], int]:
    """Cases where 50 occurrences after a point (``occurrences_after``, and the slots made of them) differ from
    dateutil's own from the original DTSTART; and how many cases went through a moved DTSTART."""
    from itertools import islice
    from dateutil.rrule import rrulestr
    from workdesk.plugins.recurring.schedule import normalise_rrule, zone
    tz = zone(timezone)
    mismatches, rebased = [], 0
    for dtstart in REBASE_DTSTARTS:
        for exdates in ([], ["2026-12-01T09:00", "2027-01-31T10:20:30", dtstart]):
            schedule = Schedule(timezone=timezone, dtstart=dtstart, rrule=rrule, exdates=exdates)
            walked = Schedule(timezone=timezone, dtstart=dtstart, rrule=rrule, exdates=exdates)
            walked.rule = None  # queried from DTSTART, as before
            reference = rrulestr("RRULE:" + normalise_rrule(rrule, tz),
                                 dtstart=dt.datetime.fromisoformat(dtstart).replace(tzinfo=tz), forceset=True)
            for excluded in exdates:
                reference.exdate(dt.datetime.fromisoformat(excluded).replace(tzinfo=tz))
            tenth = list(islice(reference, 10))[-1].astimezone(dt.timezone.utc)  # exactly at an occurrence
            for after in [dt.datetime.fromisoformat(a) for a in REBASE_AFTERS] + [tenth]:
                expected = [(o.replace(tzinfo=None), o.astimezone(dt.timezone.utc))
                            for o in islice(reference.xafter(after.astimezone(tz), inc=False), 50)]
                got = [(o.replace(tzinfo=None), o.astimezone(dt.timezone.utc))
                       for o in islice(schedule.occurrences_after(after.astimezone(tz)), 50)]
                rebased += schedule.rule is not None and schedule.period_start(after.astimezone(tz).date()) is not None
                slots = list(islice(schedule.slots_after(after), 50))
                if got != expected or slots != list(islice(walked.slots_after(after), 50)):
                    mismatches.append((dtstart, exdates, after))
    return mismatches, rebased


@pytest.mark.parametrize("timezone", REBASE_ZONES)
@pytest.mark.parametrize("rrule", REBASE_RRULES)
def test_occurrences_after_a_point_equal_dateutils_from_the_original_dtstart(rrule, timezone):
    mismatches, rebased = rebase_mismatches(rrule, timezone)
    assert mismatches == []
    if "COUNT" in rrule or "HOURLY" in rrule:
        assert rebased == 0  # walked from DTSTART as before
    else:
        assert rebased > 0  # the comparison did go through a moved DTSTART


def test_occurrences_differ_without_each_safety_condition(monkeypatch):
    """The comparison above catches each condition of moving DTSTART when it is left out."""
    from workdesk.plugins.recurring import schedule as module

    def failing(rrules: list[str]) -> list[str]:
        module._parsed_rrule.cache_clear()
        return [r for r in rrules for tz in ("UTC", "Europe/Sofia") if rebase_mismatches(r, tz)[0]]

    with monkeypatch.context() as patch:  # what DTSTART implies left implicit: the moved DTSTART's is used
        original = module.dtstart_defaults
        patch.setattr(module, "dtstart_defaults", lambda parts, start: None if original(parts, start) is None else {})
        assert failing(["FREQ=WEEKLY", "FREQ=MONTHLY", "FREQ=YEARLY", "FREQ=DAILY"]) == [
            "FREQ=WEEKLY", "FREQ=WEEKLY", "FREQ=MONTHLY", "FREQ=MONTHLY", "FREQ=YEARLY", "FREQ=YEARLY",
            "FREQ=DAILY", "FREQ=DAILY"]
    with monkeypatch.context() as patch:  # COUNT counts from the original DTSTART
        patch.setattr(module, "_REBASABLE_PARTS", module._REBASABLE_PARTS | {"COUNT"})
        assert failing(["FREQ=MONTHLY;COUNT=90"]) == ["FREQ=MONTHLY;COUNT=90"] * 2
    with monkeypatch.context() as patch:  # INTERVAL's phase: periods counted from DTSTART's
        patch.setattr(Schedule, "interval", property(lambda self: 1))
        rules = ["FREQ=DAILY;INTERVAL=3", "FREQ=WEEKLY;INTERVAL=2", "FREQ=MONTHLY;INTERVAL=5", "FREQ=YEARLY;INTERVAL=2"]
        assert failing(rules) == [r for r in rules for _ in range(2)]
    with monkeypatch.context() as patch:  # BYSETPOS picks among the whole period: start it on its first day
        period_start = Schedule.period_start
        patch.setattr(Schedule, "period_start", lambda self, day: period_start(self, day) and max(
            period_start(self, day), dt.datetime.combine(day, dt.time())))
        assert failing(["FREQ=WEEKLY;INTERVAL=2;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=1,-1"]) != []
    module._parsed_rrule.cache_clear()
