"""Dates as people read them (one format per language with a four-digit year, relative times with the exact
time on hover, due-date presets on the working calendar) and the inbox grouped per task."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from flask_babel import force_locale

from workdesk.dates import due_presets, format_day, format_instant, format_relative, time_tag
from workdesk.models import Calendar, Holiday
from workdesk.notifications import Notification
from workdesk.services.tasks import add_comment, assign, transition

BOTH_DATABASES = pytest.mark.parametrize("workdesk_database", ["sqlite", "postgresql"], indirect=True)
UTC = dt.timezone.utc


@pytest.mark.parametrize(("locale", "text"), [("en", "3/5/2026"), ("de", "05.03.2026"), ("fr", "05/03/2026"),
                                               ("es", "5/3/2026"), ("bg", "5.03.2026")])
def test_one_format_per_language_with_a_four_digit_year(workdesk_app, locale, text):
    with workdesk_app.test_request_context(), force_locale(locale):
        assert text in format_instant(dt.datetime(2026, 3, 5, 9, 30, tzinfo=UTC))
        assert text in format_day(dt.date(2026, 3, 5))  # a calendar day alone (report tables): the same date


def test_report_tables_write_days_in_the_one_format(workdesk_app):
    from workdesk.plugins.reports.views import show
    with workdesk_app.test_request_context(), force_locale("de"):
        assert show(dt.date(2026, 3, 5)) == "05.03.2026"


def test_relative_times_with_the_exact_time_on_hover(workdesk_app):
    now = dt.datetime(2026, 3, 5, 9, 30, tzinfo=UTC)
    with workdesk_app.test_request_context():
        assert format_relative(now + dt.timedelta(hours=2), now) == "in 2 hours"
        assert format_relative(now - dt.timedelta(days=3), now) == "3 days ago"
        tag = str(time_tag(now - dt.timedelta(days=3), now))
        assert tag == ('<time datetime="2026-03-02T09:30:00+00:00" title="3/2/2026, 9:30\u202fAM">3 days ago</time>')
        with force_locale("de"):
            assert format_relative(now + dt.timedelta(hours=2), now) == "in 2 Stunden"


def test_lists_say_due_dates_relatively_with_the_exact_time_on_hover(client, login, cast, make_task):
    due = (dt.datetime.now(UTC) + dt.timedelta(hours=50)).replace(microsecond=0)
    make_task(cast.agent, cast.it, title="Renew the certificate", assignee_id=cast.agent.id, due_at=due)
    login(client, cast.agent)
    with client.application.test_request_context():
        exact = format_instant(due)
    for address in ("/", "/?layout=table", "/search?assignee=me&layout=cards", "/search?assignee=me&layout=table",
                    "/board"):
        page = client.get(address).text
        assert f'<time datetime="{due.isoformat()}" title="{exact}">in 2 days</time>' in page, address


def test_due_presets_follow_the_working_calendar(workdesk_app, make_department):
    calendar = Calendar.create(name="Sofia office", timezone="Europe/Sofia",
                               weekly_hours={d: [["09:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri")})
    Holiday.create(calendar=calendar, date=dt.date(2026, 3, 9), name="Holiday Monday")
    department = make_department("Sofia", calendar_id=calendar.id)
    friday_morning = dt.datetime(2026, 3, 6, 8, 0, tzinfo=UTC)  # 10:00 in Sofia
    presets = due_presets(department, ZoneInfo("UTC"), friday_morning)
    sofia = ZoneInfo("Europe/Sofia")
    local = {name: value.astimezone(sofia) for name, value in presets.items()}
    assert local["today"] == dt.datetime(2026, 3, 6, 18, 0, tzinfo=sofia)
    assert local["tomorrow"] == dt.datetime(2026, 3, 10, 18, 0, tzinfo=sofia)  # Saturday -> past the holiday
    assert local["next_working_day"] == dt.datetime(2026, 3, 10, 18, 0, tzinfo=sofia)
    assert local["week"] == dt.datetime(2026, 3, 13, 18, 0, tzinfo=sofia)
    # After the working day ended, "today" is the next working day's end.
    evening = due_presets(department, ZoneInfo("UTC"), dt.datetime(2026, 3, 6, 17, 0, tzinfo=UTC))
    assert evening["today"].astimezone(sofia) == dt.datetime(2026, 3, 10, 18, 0, tzinfo=sofia)
    # Without a calendar: weekdays, 17:00 in the reader's zone.
    plain = due_presets(None, ZoneInfo("America/New_York"), friday_morning)
    assert plain["next_working_day"].astimezone(ZoneInfo("America/New_York")) == dt.datetime(
        2026, 3, 9, 17, 0, tzinfo=ZoneInfo("America/New_York"))


def test_the_new_task_form_takes_a_preset(client, login, cast):
    login(client, cast.agent)
    response = client.post("/tasks/new", data={"title": "Renew the certificate", "department_id": cast.it.id,
                                               "priority": "normal", "due_preset": "next_working_day"})
    assert response.status_code == 302
    from workdesk.models import Task
    task = Task.get(Task.title == "Renew the certificate")
    assert task.due_at is not None and task.due_at.astimezone(ZoneInfo(cast.agent.timezone)).weekday() < 5


@BOTH_DATABASES
def test_the_inbox_has_one_line_per_task_and_opening_the_task_reads_them(client, login, cast, make_task,
                                                                         drain_events):
    task = make_task(cast.requester, cast.it, title="Laptop battery")
    assign(cast.agent, task.id, cast.agent.id)
    other = make_task(cast.requester, cast.it, title="Phone headset")
    add_comment(cast.agent, task.id, "Ordered a new one.")
    transition(cast.agent, task.id, "open")
    transition(cast.agent, task.id, "in_progress")
    add_comment(cast.agent, other.id, "Which model?")
    drain_events()
    assert Notification.select().where(Notification.recipient == cast.requester).count() == 4
    login(client, cast.requester)
    page = client.get("/notifications").text
    assert page.count('<li class="unread"') == 2  # two tasks, two lines
    assert "3 updates" in page and "3 unread" in page
    assert "Laptop battery is now In progress" in page and "in_progress" not in page.split("<ul class=\"notifications\">")[1].split("</ul>")[0].replace("status-in_progress", "")
    assert "title=" in page.split('<span class="when">')[1][:120]  # the exact time on hover
    client.get(f"/tasks/{task.id}")
    unread = Notification.select().where((Notification.recipient == cast.requester) & (Notification.is_read == False))  # noqa: E712
    assert [n.task_id for n in unread] == [other.id]
    page = client.get("/notifications").text
    assert page.count('<li class="unread"') == 1 and page.count('<li class="read"') == 1


def test_notifications_are_written_in_the_recipients_language(client, cast, make_task, drain_events):
    cast.requester.locale = "de"
    cast.requester.save()
    task = make_task(cast.requester, cast.it, title="Drucker")
    transition(cast.agent, task.id, "open")
    drain_events()
    note = Notification.get(Notification.recipient == cast.requester)
    assert note.subject == "#%d Drucker ist jetzt Offen" % task.number or "Offen" in note.subject
    assert "open" not in note.subject


def test_a_worker_without_the_web_app_writes_in_the_readers_language(cast):
    """The standalone worker has no Flask app: ``in_language_of`` brings the catalogs along."""
    import threading

    from flask import has_app_context
    from flask_babel import gettext

    from workdesk.labels import status_label
    from workdesk.notifications import in_language_of

    cast.requester.locale = "de"
    seen: dict[str, object] = {}

    def worker() -> None:
        seen["app"] = has_app_context()  # a new thread: no app context, as in `workdesk worker`
        with in_language_of(cast.requester):
            seen["status"] = status_label("in_progress")
            seen["text"] = gettext("Is it done?")
    thread = threading.Thread(target=worker)
    thread.start()
    thread.join()
    assert seen == {"app": False, "status": "In Bearbeitung", "text": "Ist es erledigt?"}
