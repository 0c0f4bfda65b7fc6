"""The rating link (signed, once, expiring, no login), scheduled reports in each recipient's language and
zone, and the metrics other plugins contribute (a test plugin with paused SLA clocks), on both databases."""
from __future__ import annotations

import datetime as dt
import re
import time
from types import SimpleNamespace

import pytest

from .conftest import BOTH
from tests.sla_plugin import TEST_PLUGINS as SLA_PLUGINS

pytestmark = BOTH


@pytest.fixture
def workdesk_config(workdesk_config):
    return {**workdesk_config, "extra_plugins": [*workdesk_config.get("extra_plugins", []), *SLA_PLUGINS]}


@pytest.fixture
def resolved(workdesk_app, enable_plugin, make_department, make_user, make_task, drain_events):
    """A task worked through the real services to resolved; its reporter got the rating link."""
    from workdesk import Notification, services
    enable_plugin("reports", rating_link_days=3)
    department = make_department("Help desk")
    agent = make_user("agent", [department], name="Ana Agent")
    reporter = make_user("requester", [], name="Rita Reporter", locale="de")
    task = make_task(reporter, department, title="Printer jammed")
    for status in ("open", "in_progress", "resolved"):
        services.tasks.transition(agent, task.id, status)
    drain_events()
    note = Notification.get((Notification.recipient == reporter) & (Notification.kind == "reports.rating"))
    link = re.search(r"http://[^\s]+/reports/rate/[^\s]+", note.body).group(0)
    return SimpleNamespace(task=task, agent=agent, reporter=reporter, note=note, path=link.split("5000", 1)[-1],
                           department=department)


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)


def test_the_rating_link_works_without_login_once(client, resolved):
    from workdesk.plugins.reports.models import Rating
    assert resolved.note.subject == "Wie haben wir es gemacht? Bewerten Sie die Lösung von #1"  # her language
    form = client.get(resolved.path)
    assert form.status_code == 200 and "Printer jammed" in form.text
    missing = client.post(resolved.path, data={"csrf_token": csrf_of(form.text), "comment": "?"})
    assert missing.status_code == 422
    sent = client.post(resolved.path, data={"csrf_token": csrf_of(form.text), "score": "4", "comment": "Quick, thanks"})
    assert sent.status_code == 200
    rating = Rating.get(Rating.task_id == resolved.task.id)
    assert (rating.score, rating.comment, rating.rater_id) == (4, "Quick, thanks", resolved.reporter.id)
    again = client.get(resolved.path)
    assert again.status_code == 409
    assert client.post(resolved.path, data={"csrf_token": csrf_of(form.text), "score": "1"}).status_code == 409
    assert Rating.select().count() == 1


def test_a_tampered_or_foreign_link_is_not_found(client, resolved):
    from workdesk import signing
    token = resolved.path.rsplit("/", 1)[1]
    assert client.get(resolved.path[:-2] + ("AA" if not token.endswith("AA") else "BB")).status_code == 404
    other = signing.sign("something.else", {"t": resolved.task.id, "e": 1})
    assert client.get(f"/reports/rate/{other}").status_code == 404
    assert client.get("/reports/rate/%00%ff").status_code == 404


def test_an_expired_link_says_so(client, resolved, monkeypatch):
    import itsdangerous.timed
    later = time.time() + 4 * 86400  # rating_link_days is 3
    monkeypatch.setattr(itsdangerous.timed, "time", SimpleNamespace(time=lambda: later))
    expired = client.get(resolved.path)
    assert expired.status_code == 410 and "expired" in expired.text


def test_a_reopened_task_can_be_rated_again_from_the_task_page(client, login, resolved, drain_events):
    from workdesk import services
    from workdesk.plugins.reports.models import Rating
    login(client, resolved.reporter)
    page = client.get(f"/tasks/{resolved.task.id}").text
    first = re.search(r'href="(/reports/rate/[^"]+)"', page).group(1)
    client.post(first, data={"csrf_token": csrf_of(client.get(first).text), "score": "2"})
    for status in ("open", "in_progress", "resolved"):
        services.tasks.transition(resolved.agent, resolved.task.id, status)
    drain_events()
    second = re.search(r'href="(/reports/rate/[^"]+)"', client.get(f"/tasks/{resolved.task.id}").text).group(1)
    assert second != first and client.get(first).status_code == 409
    client.post(second, data={"csrf_token": csrf_of(client.get(second).text), "score": "5"})
    assert sorted(r.score for r in Rating.select()) == [2, 5]


def test_scheduled_reports_go_out_once_per_period_in_the_recipients_language_and_zone(
        history, run_jobs, make_user):
    from workdesk import Notification
    from workdesk.plugins.reports.models import Schedule
    from workdesk.plugins.reports.services import create_schedule
    history.manager.locale = "de"
    history.manager.save()
    create_schedule(history.admin, history.manager.id, "weekly", history.it.id)
    create_schedule(history.admin, history.admin.id, "monthly", None)
    # Monday 12 January 2026, 00:30 in Sofia but still Sunday in UTC: the week of 5-11 January has ended there
    run_jobs("2026-01-11T22:30:00+00:00", force=True)
    weekly = Notification.get((Notification.recipient == history.manager) & (Notification.kind == "reports.scheduled"))
    assert "05.01.2026" in weekly.subject and "11.01.2026" in weekly.subject  # German dates, Sofia's week
    assert "Erstellt: 3" in weekly.body or "Created: 3" in weekly.body
    monthly = Notification.get((Notification.recipient == history.admin) & (Notification.kind == "reports.scheduled"))
    assert "Dec 1, 2025" in monthly.subject and "Dec 31, 2025" in monthly.subject
    run_jobs("2026-01-12T10:00:00+00:00", force=True)  # again in the same week: nothing new
    assert Notification.select().where(Notification.kind == "reports.scheduled").count() == 2
    assert Schedule.get(Schedule.recipient == history.manager).last_period == dt.date(2026, 1, 5)


def test_a_schedule_for_someone_who_may_not_read_reports_is_refused(history):
    from workdesk import ValidationFailed
    from workdesk.plugins.reports.services import create_schedule
    with pytest.raises(ValidationFailed) as refused:
        create_schedule(history.admin, history.agent_a.id, "weekly", None)
    assert "recipient_id" in refused.value.fields
    with pytest.raises(ValidationFailed) as refused:
        create_schedule(history.admin, history.manager.id, "weekly", history.facilities.id)
    assert "department_id" in refused.value.fields


def test_contributed_metrics_show_while_their_plugin_is_on(client, login, history, enable_plugin):
    """Paused SLA clocks are represented by the SLA test plugin's metric (escalation owns real clocks)."""
    from tests.sla_plugin.models import SlaClock
    login(client, history.admin)
    assert 'data-metric="slatest.clocks"' not in client.get("/reports?from=2026-01-05&to=2026-01-11").text
    enable_plugin("slatest")
    t1, t2, t3 = history.tasks[1:4]
    SlaClock.create(task_id=t1.id, state="paused")
    SlaClock.create(task_id=t2.id, state="paused")
    SlaClock.create(task_id=t3.id, state="breached")
    page = client.get("/reports?from=2026-01-05&to=2026-01-11").text
    assert 'data-metric="slatest.clocks"' in page
    api = client.get("/api/v1/reports/slatest.clocks?from=2026-01-05&to=2026-01-11").get_json()
    assert api["rows"] == [{"state": "breached", "tasks": 1}, {"state": "paused", "tasks": 2}]
    # the plugin's task-list filter narrows the reports too, as crm_sync's customer filter will
    volume = client.get("/api/v1/reports/reports.volume?from=2026-01-05&to=2026-01-11&sla=breached").get_json()
    assert sum(r["created"] for r in volume["rows"]) == 1


def test_admins_create_schedules_in_the_admin_panel(client, login, history):
    from workdesk.plugins.reports.models import Schedule
    login(client, history.admin)
    form = client.get("/admin/reports/schedules/new/")
    assert form.status_code == 200 and "Mila Manager" in form.text and "Ana Agent" not in form.text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form.text).group(1)
    sent = client.post("/admin/reports/schedules/new/", data={
        "csrf_token": token, "recipient_id": str(history.manager.id), "frequency": "monthly",
        "department_id": str(history.network.id)})
    assert sent.status_code == 302
    schedule = Schedule.get()
    assert (schedule.recipient_id, schedule.frequency, schedule.department_id) == \
        (history.manager.id, "monthly", history.network.id)
    assert "Mila Manager" in client.get("/admin/reports/schedules/").text
    login(client, history.manager)
    assert client.get("/admin/reports/schedules/").status_code in (403, 404)
