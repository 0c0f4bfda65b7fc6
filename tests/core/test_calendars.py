"""Working-time arithmetic, including both daylight-saving changes."""
import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from workdesk.errors import ValidationFailed
from workdesk.services.calendars import WorkingTime

SOFIA = ZoneInfo("Europe/Sofia")
UTC = dt.timezone.utc
WEEKDAYS = {d: [["09:00", "17:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}


@pytest.fixture
def office():
    return WorkingTime("Europe/Sofia", WEEKDAYS, holidays={dt.date(2026, 3, 3)})


def local(*args):
    return dt.datetime(*args, tzinfo=SOFIA)


def test_working_time_is_local_wall_clock_on_both_sides_of_dst(office):
    # Sofia moves to summer time on 2026-03-29 and back on 2026-10-25.
    assert office.is_working_time(local(2026, 3, 27, 9, 0))      # Friday before, UTC+2
    assert office.is_working_time(local(2026, 3, 30, 9, 0))      # Monday after, UTC+3
    assert local(2026, 3, 30, 9, 0).astimezone(UTC).hour == 6
    assert local(2026, 3, 27, 9, 0).astimezone(UTC).hour == 7
    assert not office.is_working_time(local(2026, 3, 30, 8, 59))
    assert not office.is_working_time(local(2026, 3, 28, 12, 0))  # Saturday
    assert not office.is_working_time(local(2026, 3, 3, 12, 0))   # holiday
    assert office.is_working_time(local(2026, 10, 26, 16, 59))


def test_add_working_hours_skips_nights_weekends_and_holidays(office):
    friday_4pm = local(2026, 3, 27, 16, 0)
    # 1 h on Friday, the weekend and the clock change pass, 3 h on Monday.
    assert office.add_working_hours(friday_4pm, 4) == local(2026, 3, 30, 12, 0)
    assert office.add_working_hours(local(2026, 3, 2, 16, 0), 2) == local(2026, 3, 4, 10, 0)  # over the holiday
    assert office.add_working_hours(local(2026, 3, 28, 10, 0), 1) == local(2026, 3, 30, 10, 0)  # starts off-hours
    assert office.add_working_hours(local(2026, 10, 23, 17, 0), 8) == local(2026, 10, 26, 17, 0)


def test_a_working_interval_across_a_clock_change_is_measured_in_real_time():
    night = WorkingTime("Europe/Sofia", {"sun": [["00:00", "06:00"]]})
    # 2026-03-29 03:00 -> 04:00 is skipped: the shift lasts 5 real hours.
    assert night.working_hours_between(local(2026, 3, 29, 0, 0), local(2026, 3, 29, 6, 0)) == 5
    # 2026-10-25 04:00 -> 03:00 repeats an hour: 7 real hours.
    assert night.working_hours_between(local(2026, 10, 25, 0, 0), local(2026, 10, 25, 6, 0)) == 7


def test_next_and_previous_working_day(office):
    assert office.next_working_day(dt.date(2026, 3, 27)) == dt.date(2026, 3, 30)
    assert office.next_working_day(dt.date(2026, 3, 2)) == dt.date(2026, 3, 4)
    assert office.next_working_day(dt.date(2026, 3, 30), include=True) == dt.date(2026, 3, 30)
    assert office.previous_working_day(dt.date(2026, 3, 30)) == dt.date(2026, 3, 27)
    assert office.previous_working_day(dt.date(2026, 3, 4)) == dt.date(2026, 3, 2)


def test_bad_hours_are_refused_naming_the_problem():
    with pytest.raises(ValidationFailed, match="Invalid working hours") as bad:
        WorkingTime("UTC", {"monday": [["09:00", "17:00"]]})
    assert "Unknown day 'monday'" in bad.value.fields["weekly_hours"][0]
    with pytest.raises(ValidationFailed):
        WorkingTime("UTC", {"mon": [["17:00", "09:00"]]})


def test_a_calendar_without_working_time_does_not_loop_forever():
    with pytest.raises(ValueError, match="no working"):
        WorkingTime("UTC", {}).add_working_hours(dt.datetime(2026, 1, 1, tzinfo=UTC), 1)


def test_department_calendar_is_inherited(workdesk_app, make_department):
    from workdesk.models import Calendar
    calendar = Calendar.create(name="Sofia office", timezone="Europe/Sofia", weekly_hours=WEEKDAYS)
    parent = make_department("Operations", calendar_id=calendar.id)
    child = make_department("Night shift", parent_id=parent.id)
    found = WorkingTime.for_department(child)
    assert found is not None and found.is_working_time(local(2026, 3, 30, 9, 0))
    assert WorkingTime.for_department(make_department("Elsewhere")) is None
