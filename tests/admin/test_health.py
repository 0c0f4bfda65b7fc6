"""The health panel and GET /api/v1/health: heartbeat, queue depth, failed work with retry, job times."""
from __future__ import annotations

import datetime as dt
import html as html_lib

import pytest

from workdesk import health
from workdesk.auth import issue_token
from workdesk.db import utcnow
from workdesk.jobs import run_due_jobs
from workdesk.models import JobRun, OutboxDelivery, WorkerHeartbeat
from workdesk.services import tasks as task_service
from tests.admin import sample_plugin

NOW = dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.timezone.utc)


@pytest.fixture(autouse=True)
def no_leftover_job_failures():
    yield
    sample_plugin.JOB_FAILURES.clear()


def sample_job() -> dict:
    return next(job for job in health.periodic_jobs() if job["name"] == "sample.tidy_up")


def beat(worker_id: str, seconds_ago: int) -> None:
    WorkerHeartbeat.create(worker_id=worker_id, hostname="host", pid=1, started_at=NOW - dt.timedelta(hours=1),
                           seen_at=NOW - dt.timedelta(seconds=seconds_ago))


def test_worker_alive_only_with_a_recent_heartbeat(workdesk_app):
    assert health.worker_status(NOW) == {"alive": False, "stale_after_seconds": 60, "last_seen": None, "workers": []}
    beat("old", 600)
    assert health.worker_status(NOW)["alive"] is False
    beat("fresh", 5)
    status = health.worker_status(NOW)
    assert status["alive"] is True and status["last_seen"] == NOW - dt.timedelta(seconds=5)
    assert [(w["worker_id"], w["alive"], w["age_seconds"]) for w in status["workers"]] == [
        ("fresh", True, 5), ("old", False, 600)]


def test_queue_depth_counts_queue_and_outbox(admin, department, make_task):
    make_task(admin, department)
    depth = health.queue_depth()
    assert depth["outbox_pending"] == 1
    assert depth["total"] == depth["queue_pending"] + 1


@pytest.mark.parametrize("workdesk_database", ["sqlite", "postgresql"], indirect=True)
def test_failed_delivery_is_listed_and_retried(client, admin, csrf_token, department, make_task, enable_plugin,
                                               drain_events):
    enable_plugin("sample", greeting="hi")
    task = make_task(admin, department, title="[explode] boom")
    drain_events()
    failed = health.failed_work()["deliveries"]
    assert [(d["plugin"], d["status"], d["attempts"]) for d in failed] == [("sample", "retry", 1)]
    assert f"cannot handle task {task.number}" in failed[0]["error"]
    page = html_lib.unescape(client.get("/admin/health/").get_data(as_text=True))
    assert f"cannot handle task {task.number}" in page and "Retry" in page

    task_service.update_task(admin, task.id, {"title": "defused"})  # the cause is fixed...
    response = client.post(f"/admin/health/retry-event/{failed[0]['event_id']}",
                           data={"csrf_token": csrf_token(client, "/admin/health/")}, follow_redirects=True)
    assert "is queued for another delivery" in response.get_data(as_text=True)
    drain_events()  # ...and the retry, due at once, succeeds
    delivery = OutboxDelivery.get(OutboxDelivery.event == failed[0]["event_id"])
    assert (delivery.status, delivery.attempts) == ("done", 1)
    assert health.failed_work()["deliveries"] == []


def test_retrying_an_event_without_failures_says_so(client, admin, csrf_token):
    response = client.post("/admin/health/retry-event/12345", data={"csrf_token": csrf_token(client, "/admin/health/")},
                           follow_redirects=True)
    assert "No such outbox event." in response.get_data(as_text=True)


def test_job_times_and_error_with_retry(client, admin, csrf_token, enable_plugin):
    enable_plugin("sample", greeting="hi")
    assert sample_job()["last_run"] is None
    run_due_jobs(NOW)
    job = sample_job()
    assert (job["name"], job["last_run"], job["next_run"]) == ("sample.tidy_up", NOW, NOW + dt.timedelta(hours=1))

    sample_plugin.JOB_FAILURES.append("disk full")
    run_due_jobs(NOW + dt.timedelta(hours=2))
    assert "disk full" in health.failed_work()["jobs"][0]["error"]
    assert sample_job()["last_run"] == NOW  # the failed run does not count
    page = html_lib.unescape(client.get("/admin/health/").get_data(as_text=True))
    assert "RuntimeError('disk full')" in page

    response = client.post("/admin/health/clear-job/sample.tidy_up",
                           data={"csrf_token": csrf_token(client, "/admin/health/")}, follow_redirects=True)
    assert "runs again on the next tick" in response.get_data(as_text=True)
    assert JobRun.get_by_id("sample.tidy_up").last_error is None
    assert run_due_jobs(NOW + dt.timedelta(hours=2))["sample.tidy_up"] == "ran"


def test_health_api_for_admins(client, admin, enable_plugin):
    enable_plugin("sample", greeting="hi")
    WorkerHeartbeat.create(worker_id="w1", hostname="h", pid=2, seen_at=utcnow())
    response = client.get("/api/v1/health")
    assert response.status_code == 200
    body = response.get_json()
    assert set(body) == {"now", "worker", "queue", "failed", "jobs"}
    assert body["worker"]["alive"] is True and body["worker"]["workers"][0]["worker_id"] == "w1"
    assert {"name": "sample.tidy_up", "every_seconds": 3600, "last_run": None, "next_run": None,
            "last_run_in_future": False, "last_replay": None, "warning": None, "running": False,
            "last_error": None} in body["jobs"]
    assert set(body["queue"]) == {"queue_pending", "outbox_pending", "total"}


def test_a_last_run_in_the_future_is_flagged(client, admin, enable_plugin):
    enable_plugin("sample", greeting="hi")
    ahead = utcnow() + dt.timedelta(days=3)
    JobRun.create(name="sample.tidy_up", last_completed_at=ahead, last_replay_at=dt.datetime(2099, 1, 1, tzinfo=dt.timezone.utc))
    job = sample_job()
    assert job["last_run_in_future"] is True and job["next_run"] is None  # due at the next tick
    assert job["warning"].startswith("This last run lies in the future: a server's clock is ahead")
    page = html_lib.unescape(client.get("/admin/health/").get_data(as_text=True))
    assert "wd-job-warning" in page and job["warning"] in page and "replayed as of" in page
    body = client.get("/api/v1/health").get_json()
    flagged = next(j for j in body["jobs"] if j["name"] == "sample.tidy_up")
    assert flagged["last_run_in_future"] is True and flagged["warning"] == job["warning"]
    assert flagged["last_replay"].startswith("2099-01-01T00:00:00")
    german = client.get("/api/v1/health", headers={"Accept-Language": "de"}).get_json()
    assert next(j for j in german["jobs"] if j["name"] == "sample.tidy_up")["warning"] != job["warning"]
    assert run_due_jobs()["sample.tidy_up"] == "ran"  # the real clock's run sets it right
    assert sample_job()["last_run_in_future"] is False


def test_health_api_with_token_and_refusals(workdesk_app, make_user):
    client = workdesk_app.test_client()
    anonymous = client.get("/api/v1/health")
    assert anonymous.status_code == 401
    assert anonymous.get_json()["error"]["code"] == "unauthorized"
    agent_token = issue_token(make_user("agent"))
    refused = client.get("/api/v1/health", headers={"Authorization": f"Bearer {agent_token}"})
    assert refused.status_code == 403
    assert refused.get_json() == {"error": {"code": "forbidden", "message": "Only admins may read the health report.",
                                            "fields": {}, "permission": "admin.access"}}
    admin_token = issue_token(make_user("admin"))
    assert client.get("/api/v1/health", headers={"Authorization": f"Bearer {admin_token}"}).status_code == 200


def test_queue_depth_on_redis(workdesk_app, redis_url):
    import uuid

    from workdesk.queue import configure_queue, drain_outbox_task, queue
    configure_queue(redis_url, name=f"wd-health-{uuid.uuid4().hex[:8]}")
    try:
        drain_outbox_task()
        drain_outbox_task()
        assert health.queue_depth() == {"queue_pending": 2, "outbox_pending": 0, "total": 2}
    finally:
        queue.storage.flush_all()
        configure_queue("memory://")
