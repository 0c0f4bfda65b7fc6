"""The one Huey queue on SQLite, Redis and PostgreSQL storage; plugin tasks refused while disabled."""
import uuid

import pytest

from workdesk.registry import set_plugin_enabled
from workdesk.queue import configure_queue, plugin_task, queue

RECEIVED = []


@plugin_task("recorder")
def remember(value):
    RECEIVED.append(value)


@pytest.fixture(params=["sqlite", "redis", "postgresql"])
def queue_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'queue.db'}"
    if request.param == "redis":
        return request.getfixturevalue("redis_url")
    import os
    url = os.environ.get("TEST_POSTGRES_URL")
    if not url:
        pytest.skip("PostgreSQL queue tests need TEST_POSTGRES_URL (set by .ci/run)")
    return url


def run_one():
    task = queue.dequeue()
    assert task is not None, "nothing was enqueued"
    queue.execute(task)


def test_plugin_tasks_run_on_every_backend_only_while_enabled(workdesk_app, queue_url):
    name = f"wd-test-{uuid.uuid4().hex[:8]}"
    configure_queue(queue_url, name=name)
    try:
        queue.flush()
        RECEIVED.clear()
        assert remember.name == "recorder.remember"
        set_plugin_enabled("recorder", True)
        remember(41)
        assert queue.pending_count() == 1
        run_one()
        assert RECEIVED == [41]
        set_plugin_enabled("recorder", False)
        remember(42)
        run_one()
        assert RECEIVED == [41], "a disabled plugin's task must not run"
        assert queue.pending_count() == 0
    finally:
        queue.flush()
        configure_queue("memory://")


def test_unknown_queue_scheme_is_refused():
    with pytest.raises(ValueError, match="unsupported queue URL scheme 'amqp'"):
        configure_queue("amqp://localhost")
