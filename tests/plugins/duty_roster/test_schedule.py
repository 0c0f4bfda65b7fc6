"""Rotation arithmetic as pure functions: daylight saving, month ends, leap days, restrictions, layers,
overrides, deliberate nobody, gaps and absences."""
from __future__ import annotations

import datetime as dt
from dataclasses import replace
from zoneinfo import ZoneInfo

import pytest

from workdesk.plugins.duty_roster.schedule import Away, Override, Rotation, Window, on_duty, roster, to_local

UTC = dt.timezone.utc
SOFIA = ZoneInfo("Europe/Sofia")
NEW_YORK = ZoneInfo("America/New_York")


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)


def rotation(**kwargs) -> Rotation:
    values = {"id": 1, "members": (1, 2, 3), "length": 1, "unit": "weeks", "handoff": dt.time(9),
              "zone": SOFIA, "start_date": dt.date(2026, 1, 5), "weekday": 1, **kwargs}
    return Rotation(**values)


def local(instant: dt.datetime, zone: ZoneInfo) -> str:
    return to_local(instant, zone).strftime("%Y-%m-%d %H:%M")


# -- daylight saving ---------------------------------------------------------------------------------

def test_weekly_handoff_stays_at_nine_local_across_both_sofia_changes():
    weekly = rotation()
    spring = weekly.shift(weekly.index_at(at("2026-03-29T12:00Z")))  # clocks go forward on 29 March 2026
    assert (spring.start, spring.end) == (at("2026-03-23T07:00Z"), at("2026-03-30T06:00Z"))
    assert spring.end - spring.start == dt.timedelta(hours=167)  # an hour shorter, not moved
    autumn = weekly.shift(weekly.index_at(at("2026-10-25T12:00Z")))  # and back on 25 October 2026
    assert (autumn.start, autumn.end) == (at("2026-10-19T06:00Z"), at("2026-10-26T07:00Z"))
    assert autumn.end - autumn.start == dt.timedelta(hours=169)
    # Consecutive shifts touch: no gap, no overlap, and every hand-off is Monday 09:00 local.
    shifts = weekly.shifts(at("2026-01-01T00:00Z"), at("2027-01-01T00:00Z"))
    assert all(a.end == b.start for a, b in zip(shifts, shifts[1:]))
    assert {local(s.start, SOFIA)[-5:] for s in shifts} == {"09:00"}
    assert {to_local(s.start, SOFIA).isoweekday() for s in shifts} == {1}
    assert [s.member for s in shifts[:4]] == [1, 2, 3, 1]


@pytest.mark.parametrize("day, hours", [("2026-03-07", 23), ("2026-10-31", 25)])
def test_daily_handoff_in_new_york_across_both_changes(day, hours):
    # New York: clocks go forward on 8 March 2026 and back on 1 November 2026.
    daily = rotation(unit="days", weekday=None, zone=NEW_YORK, start_date=dt.date(2026, 1, 1))
    start = dt.datetime.fromisoformat(f"{day}T09:00").replace(tzinfo=NEW_YORK)
    shift = daily.shift(daily.index_at(start.astimezone(UTC)))
    assert local(shift.start, NEW_YORK) == f"{day} 09:00"
    assert local(shift.end, NEW_YORK)[-5:] == "09:00"
    assert shift.end - shift.start == dt.timedelta(hours=hours)


def test_every_instant_of_a_year_falls_in_exactly_the_shift_that_contains_it():
    for zone in (SOFIA, NEW_YORK):
        twelve = rotation(unit="hours", length=12, weekday=None, zone=zone, members=(1, 2))
        instant = at("2026-01-06T00:30Z")
        while instant < at("2027-01-01T00:00Z"):
            shift = twelve.shift(twelve.index_at(instant))
            assert shift.start <= instant < shift.end
            assert local(shift.start, zone)[-5:] in ("09:00", "21:00")
            instant += dt.timedelta(hours=1)


def test_a_handoff_inside_the_skipped_hour_happens_after_it():
    # 03:30 does not exist in Sofia on 29 March 2026 (03:00 jumps to 04:00): the hand-off is at 04:30 local.
    nightly = rotation(unit="days", weekday=None, handoff=dt.time(3, 30), start_date=dt.date(2026, 3, 1))
    shift = nightly.shift(nightly.index_at(at("2026-03-29T12:00Z")))
    assert local(shift.start, SOFIA) == "2026-03-29 04:30"
    assert shift.start == at("2026-03-29T01:30Z")


def test_before_the_start_nobody_is_scheduled():
    weekly = rotation(start_date=dt.date(2026, 1, 7))  # a Wednesday: the first Monday hand-off is 12 January
    assert weekly.index_at(at("2026-01-12T06:59Z")) is None
    assert weekly.index_at(at("2026-01-12T07:00Z")) == 0
    assert weekly.shifts(at("2026-01-01T00:00Z"), at("2026-01-12T07:00Z")) == []


# -- month ends and leap days ------------------------------------------------------------------------

def test_two_day_shifts_over_month_ends_and_a_leap_day():
    two_days = rotation(unit="days", length=2, weekday=None, zone=ZoneInfo("UTC"), start_date=dt.date(2028, 1, 30))
    starts = [local(s.start, ZoneInfo("UTC"))[:10] for s in two_days.shifts(at("2028-01-30T09:00Z"), at("2028-03-05T00:00Z"))]
    assert starts[:2] == ["2028-01-30", "2028-02-01"]
    assert "2028-02-29" in starts and "2028-03-02" in starts  # 2028 is a leap year
    assert all((dt.date.fromisoformat(b) - dt.date.fromisoformat(a)).days == 2 for a, b in zip(starts, starts[1:]))


def test_weekly_rotation_starting_on_a_leap_day_and_a_month_end():
    leap = rotation(weekday=None, start_date=dt.date(2028, 2, 29))
    assert [local(leap.handoff_at(k), SOFIA) for k in range(3)] == ["2028-02-29 09:00", "2028-03-07 09:00",
                                                                   "2028-03-14 09:00"]
    month_end = rotation(unit="days", weekday=None, start_date=dt.date(2027, 1, 31))
    assert local(month_end.handoff_at(28), SOFIA) == "2027-02-28 09:00"
    assert local(month_end.handoff_at(29), SOFIA) == "2027-03-01 09:00"
    assert month_end.shift(29).member == month_end.members[29 % 3]


# -- restrictions ------------------------------------------------------------------------------------

OFFICE_HOURS = (Window(frozenset({1, 2, 3, 4, 5}), dt.time(9), dt.time(18)),)


def test_restrictions_clip_shifts_without_moving_the_rotation():
    # Daily hand-offs at 09:00, covered only 09:00-18:00 on weekdays (Sofia), every hand-off passing the
    # turn ("calendar"). 2026-03-06 is a Friday.
    daily = rotation(unit="days", weekday=None, start_date=dt.date(2026, 3, 2), members=(1, 2, 3, 4, 5, 6, 7),
                     restrictions=OFFICE_HOURS, advance="calendar")
    friday_person = daily.shift(daily.index_at(at("2026-03-06T10:00Z"))).member
    assert [p.user_id for p in on_duty([daily], [], [], at("2026-03-06T10:00Z"))] == [friday_person]
    for weekend_or_night in ("2026-03-06T16:30Z", "2026-03-07T10:00Z", "2026-03-09T06:59Z"):
        assert on_duty([daily], [], [], at(weekend_or_night)) == []
    monday = on_duty([daily], [], [], at("2026-03-09T07:00Z"))  # 09:00 Sofia on Monday
    assert [p.user_id for p in monday] == [daily.members[7 % 7]] and monday[0].user_id != friday_person
    # The week's covered time is exactly 5 × 9 hours, whatever the hand-offs.
    pieces, gaps = roster([daily], [], [], at("2026-03-08T22:00Z"), at("2026-03-15T22:00Z"))
    assert sum(p.hours for p in pieces) == 45


def test_a_weekday_rotation_passes_the_turn_on_working_days_only_all_year():
    # The default advance ("windows"): five people, daily at 09:00, 09:00-18:00 on weekdays, from Monday
    # 5 January 2026 in Sofia. Each keeps their weekday all year; the Friday person's shift runs to
    # Monday's hand-off, so they hand over to the Monday person, and is never on duty on Monday; both
    # daylight-saving changes (29 March, 25 October) fall inside a Friday shift that absorbs them.
    daily = rotation(unit="days", weekday=None, members=(1, 2, 3, 4, 5), restrictions=OFFICE_HOURS)
    shifts = daily.shifts(at("2026-01-05T07:00Z"), at("2027-01-04T07:00Z"))
    assert len(shifts) == 52 * 5 and all(a.end == b.start for a, b in zip(shifts, shifts[1:]))
    for shift in shifts:
        start = to_local(shift.start, SOFIA)
        assert start.strftime("%H:%M") == "09:00" and shift.member == start.isoweekday()
        assert to_local(shift.end, SOFIA).isoweekday() == (1 if start.isoweekday() == 5 else start.isoweekday() + 1)
    spring = daily.shift(daily.index_at(at("2026-03-28T12:00Z")))  # Saturday: still Friday's shift
    assert (spring.member, spring.start, spring.end) == (5, at("2026-03-27T07:00Z"), at("2026-03-30T06:00Z"))
    assert spring.end - spring.start == dt.timedelta(hours=71)  # 72 hours less the skipped one
    autumn = daily.shift(daily.index_at(at("2026-10-24T12:00Z")))
    assert (autumn.member, autumn.end - autumn.start) == (5, dt.timedelta(hours=73))
    for friday, monday in (("2026-03-27T07:00Z", "2026-03-30T06:00Z"), ("2026-10-23T06:00Z", "2026-10-26T07:00Z")):
        assert [p.user_id for p in on_duty([daily], [], [], at(friday))] == [5]
        assert [p.user_id for p in on_duty([daily], [], [], at(monday))] == [1]  # 09:00 local, the new offset
        assert on_duty([daily], [], [], at(monday) - dt.timedelta(minutes=1)) == []
    # Every person holds exactly 9 hours a week, local 09:00-18:00 on their day, on both sides of a change.
    pieces, _gaps = roster([daily], [], [], at("2026-03-22T22:00Z"), at("2026-04-05T21:00Z"))
    assert {(p.user_id, local(p.start, SOFIA)[-5:], local(p.end, SOFIA)[-5:], p.hours) for p in pieces} == {
        (n, "09:00", "18:00", 9) for n in range(1, 6)} and len(pieces) == 10
    # The calendar advance of the same rotation loses the weekend turns: Monday's person changes weekly.
    calendar = replace(daily, advance="calendar")
    mondays = [on_duty([calendar], [], [], at(f"2026-01-{d:02}T08:00Z"))[0].user_id for d in (5, 12, 19)]
    assert mondays == [1, 3, 5]


def test_a_window_in_the_skipped_hour_passes_no_turn():
    # Hourly shifts, covered only Sundays 03:00-04:00 in Sofia. On 29 March 2026 03:00 jumps to 04:00: that
    # Sunday has no such hour, so no turn passes, and the next Sunday's person is the next one in order.
    hourly = rotation(unit="hours", weekday=None, handoff=dt.time(0), start_date=dt.date(2026, 3, 1),
                      restrictions=(Window(frozenset({7}), dt.time(3), dt.time(4)),))
    pieces, gaps = roster([hourly], [], [], at("2026-03-01T00:00Z"), at("2026-04-13T00:00Z"))
    assert [(p.user_id, local(p.start, SOFIA)) for p in pieces] == [
        (1, "2026-03-01 03:00"), (2, "2026-03-08 03:00"), (3, "2026-03-15 03:00"), (1, "2026-03-22 03:00"),
        (2, "2026-04-05 03:00"), (3, "2026-04-12 03:00")]
    # The 22 March person's shift runs until the next turn, two weeks on: nobody else holds 29 March.
    held = hourly.shift(hourly.index_at(at("2026-03-29T01:30Z")))
    assert (held.member, held.start, held.end) == (1, at("2026-03-22T01:00Z"), at("2026-04-05T00:00Z"))
    # Before the first window opens, no turn has begun.
    assert hourly.index_at(at("2026-03-01T00:30Z")) is None and hourly.shifts(at("2026-03-01T00:00Z"),
                                                                              at("2026-03-01T01:00Z")) == []


def test_a_window_past_midnight_and_a_whole_day():
    nights = rotation(restrictions=(Window(frozenset({5}), dt.time(22), dt.time(6)),))  # Friday night
    pieces, _ = roster([nights], [], [], at("2026-03-06T00:00Z"), at("2026-03-08T00:00Z"))
    assert [(local(p.start, SOFIA), local(p.end, SOFIA)) for p in pieces] == [("2026-03-06 22:00", "2026-03-07 06:00")]
    whole_day = rotation(restrictions=(Window(frozenset({6}), dt.time(0), dt.time(0)),))  # Saturday
    pieces, _ = roster([whole_day], [], [], at("2026-03-06T00:00Z"), at("2026-03-09T00:00Z"))
    assert sum(p.hours for p in pieces) == 24


# -- layers, overrides, nobody, gaps, absences ----------------------------------------------------------

def test_a_weekend_layer_overrides_the_weekday_rotation():
    weekdays = rotation(id=1, members=(1, 2))
    weekend = rotation(id=2, layer=1, members=(7, 8), unit="days", weekday=None, start_date=dt.date(2026, 3, 7),
                       handoff=dt.time(0), restrictions=(Window(frozenset({6, 7}), dt.time(0), dt.time(0)),))
    # The week from Monday 2 March is shift 8 since 5 January: member 1's.
    assert [p.user_id for p in on_duty([weekdays, weekend], [], [], at("2026-03-06T12:00Z"))] == [1]
    saturday = on_duty([weekdays, weekend], [], [], at("2026-03-07T12:00Z"))
    assert [(p.user_id, p.layer) for p in saturday] == [(7, 1)]
    assert [p.user_id for p in on_duty([weekdays, weekend], [], [], at("2026-03-08T12:00Z"))] == [8]
    assert [p.user_id for p in on_duty([weekdays, weekend], [], [], at("2026-03-08T22:00Z"))] == [1]


def test_two_rotations_on_one_layer_are_both_on_duty():
    primary, secondary = rotation(id=1, members=(1, 2)), rotation(id=2, members=(5, 6))
    assert sorted(p.user_id for p in on_duty([primary, secondary], [], [], at("2026-03-06T12:00Z"))) == [1, 5]


def test_overrides_replace_the_person_for_their_period_only():
    weekly = rotation(members=(1, 2))
    covering = Override(1, 9, at("2026-03-04T10:00Z"), at("2026-03-05T10:00Z"))
    assert [p.user_id for p in on_duty([weekly], [covering], [], at("2026-03-04T12:00Z"))] == [9]
    piece = on_duty([weekly], [covering], [], at("2026-03-04T12:00Z"))[0]
    assert piece.kind == "override" and piece.shift_start == at("2026-03-02T07:00Z")
    assert [p.user_id for p in on_duty([weekly], [covering], [], at("2026-03-05T10:00Z"))] == [1]
    other_rotation = Override(2, 9, at("2026-03-04T10:00Z"), at("2026-03-05T10:00Z"))
    assert [p.user_id for p in on_duty([weekly], [other_rotation], [], at("2026-03-04T12:00Z"))] == [1]


def test_deliberate_nobody_is_not_a_gap_but_missing_coverage_is():
    with_nobody = rotation(members=(1, None))  # every other week deliberately unstaffed
    pieces, gaps = roster([with_nobody], [], [], at("2026-03-02T07:00Z"), at("2026-03-16T07:00Z"))
    assert gaps == [] and [p.kind for p in pieces] == ["shift", "nobody"]
    assert on_duty([with_nobody], [], [], at("2026-03-10T12:00Z"))[0].covered is False
    nobody_override = Override(1, None, at("2026-03-03T00:00Z"), at("2026-03-04T00:00Z"))
    pieces, gaps = roster([with_nobody], [nobody_override], [], at("2026-03-02T07:00Z"), at("2026-03-09T07:00Z"))
    assert gaps == [] and [p.kind for p in pieces] == ["shift", "nobody", "shift"]
    office = rotation(unit="days", weekday=None, restrictions=OFFICE_HOURS)
    _pieces, gaps = roster([office], [], [], at("2026-03-09T07:00Z"), at("2026-03-10T07:00Z"))
    assert gaps == [(at("2026-03-09T16:00Z"), at("2026-03-10T07:00Z"))]


def test_an_absent_person_leaves_their_time_uncovered_until_someone_takes_it():
    weekly = rotation(members=(1, 2))
    away = Away(1, at("2026-03-03T00:00Z"), at("2026-03-05T00:00Z"))  # member 1 has the week of 2 March
    piece = on_duty([weekly], [], [away], at("2026-03-04T12:00Z"))[0]
    assert (piece.user_id, piece.kind, piece.covered) == (1, "absent", False)
    taken = Override(1, 3, at("2026-03-04T00:00Z"), at("2026-03-05T00:00Z"))
    assert [(p.user_id, p.kind) for p in on_duty([weekly], [taken], [away], at("2026-03-04T12:00Z"))] == [(3, "override")]
    assert on_duty([weekly], [taken], [away], at("2026-03-03T12:00Z"))[0].kind == "absent"
