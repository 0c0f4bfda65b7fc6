"""Plugin discovery, compatibility, enable/disable across processes, isolation of broken plugins."""
import subprocess
import sys
import time

import marshmallow
import pytest
from flask import Blueprint

from workdesk import migrate
from workdesk.models import OutboxDelivery, PluginState
from workdesk.registry import PluginError, __version__, get_registry, save_plugin_settings, set_plugin_enabled
from workdesk.services import tasks

from .conftest import ROOT, SAMPLE_PLUGINS


def test_first_party_and_example_plugins_are_found_through_entry_points(workdesk_app):
    registry = get_registry()
    hello = registry.plugins["hello"]
    assert hello.source.startswith("workdesk-hello: workdesk_hello:HelloPlugin")
    assert hello.usable and hello.plugin.version == "0.2.0"
    assert type(hello.plugin).title() == "Hello"
    first_party = [i for i in registry.plugins.values() if i.source.startswith("workdesk: workdesk.plugins.")]
    assert {i.name for i in first_party} >= {"recurring", "email", "webhooks"}
    for info in first_party:
        assert info.usable, info.error
        assert info.plugin.name == info.name
    assert registry.plugins["recorder"].source == "config: tests.core.sample_plugins:RecorderPlugin"


def test_incompatible_plugin_is_listed_with_reason_and_cannot_be_enabled(workdesk_app):
    info = get_registry().plugins["future"]
    assert info.incompatible == f"it supports Workdesk >=2.0, this is Workdesk {__version__}"
    with pytest.raises(PluginError, match="cannot be enabled: it supports Workdesk >=2.0"):
        set_plugin_enabled("future", True)
    assert not PluginState.select().where(PluginState.name == "future", PluginState.enabled == True).exists()  # noqa


@pytest.fixture
def workdesk_config(workdesk_config):
    return {**workdesk_config,
            "extra_plugins": SAMPLE_PLUGINS + ["tests.core.no_such_module:Plugin", "tests.core.broken_plugin:BrokenPlugin",
                                               "tests.core.sample_plugins:log_now"]}


def test_a_plugin_that_fails_to_load_is_listed_and_others_work(workdesk_app, make_department, make_user,
                                                                 enable_plugin, drain_events):
    registry = get_registry()
    missing = registry.plugins["config: tests.core.no_such_module:Plugin"]
    assert not missing.loaded and "No module named 'tests.core.no_such_module'" in missing.error
    broken = registry.plugins["config: tests.core.broken_plugin:BrokenPlugin"]
    assert "RuntimeError('this plugin is broken at import time')" in broken.error
    not_a_plugin = registry.plugins["config: tests.core.sample_plugins:log_now"]
    assert "is not a workdesk Plugin subclass" in not_a_plugin.error
    with pytest.raises(PluginError, match="No plugin named 'nope'"):
        set_plugin_enabled("nope", True)
    enable_plugin("recorder")
    dept = make_department()
    task = tasks.create_task(make_user("agent", departments=[dept]), title="still works", department_id=dept.id)
    drain_events()
    from tests.core.sample_plugins import HandledEvent
    assert HandledEvent.select().where(HandledEvent.detail == "still works").count() == 1
    assert task.id


def test_a_raising_event_hook_is_isolated(workdesk_app, make_department, make_user, enable_plugin, drain_events):
    enable_plugin("raising")
    enable_plugin("recorder")
    dept = make_department()
    agent = make_user("agent", departments=[dept])
    task = tasks.create_task(agent, title="survives", department_id=dept.id)
    drain_events()
    from tests.core.sample_plugins import HandledEvent
    assert HandledEvent.select().where(HandledEvent.kind == "created").count() == 1
    assert "raising plugin is broken on purpose" in PluginState.get_by_id("raising").last_error
    failed = OutboxDelivery.get(OutboxDelivery.plugin == "raising")
    assert failed.status == "retry" and failed.attempts == 1
    # A raising extra_task_data hook drops only that plugin's data.
    assert tasks.plugin_data(task, agent) == {"recorder": {"label": "rec", "title_length": 8}}


def test_disabled_plugins_hooks_are_not_called_and_data_is_kept(workdesk_app, make_department, make_user,
                                                                  enable_plugin, drain_events):
    from tests.core.sample_plugins import HandledEvent
    enable_plugin("recorder")
    dept = make_department()
    agent = make_user("agent", departments=[dept])
    tasks.create_task(agent, title="one", department_id=dept.id)
    drain_events()
    set_plugin_enabled("recorder", False)
    tasks.create_task(agent, title="two", department_id=dept.id)
    drain_events()
    assert [e.detail for e in HandledEvent.select().where(HandledEvent.kind == "created")] == ["one"]
    assert tasks.plugin_data(tasks.create_task(agent, title="x", department_id=dept.id), agent) == {}


def test_settings_are_validated_by_the_plugins_schema(workdesk_app, enable_plugin):
    enable_plugin("recorder")
    with pytest.raises(marshmallow.ValidationError) as invalid:
        save_plugin_settings("recorder", {"label": "", "limit": 99, "colour": "red"})
    assert set(invalid.value.messages) == {"label", "limit", "colour"}
    assert PluginState.get_by_id("recorder").settings == {}
    assert save_plugin_settings("recorder", {"label": "ok"}) == {"label": "ok", "limit": 5}
    assert get_registry().get("recorder").settings() == {"label": "ok", "limit": 5}


def test_enabling_creates_the_plugins_tables(workdesk_app):
    set_plugin_enabled("hello", True)
    assert migrate.current_version("hello") == 2
    from workdesk_hello.models import Greeting
    assert Greeting.table_exists()


def test_enable_and_disable_are_seen_by_another_process(workdesk_app, workdesk_config):
    """A second OS process toggles the plugin; this process sees it without a restart."""
    registry = get_registry()
    assert not registry.is_enabled("recorder")
    script = (
        "import sys; from workdesk.app import init_runtime; from workdesk.config import load_settings;"
        "from workdesk.registry import set_plugin_enabled;"
        f"init_runtime(load_settings(overrides={{'secret_key': 'x'*20, 'database_url': {workdesk_config['database_url']!r},"
        f"'queue_url': 'memory://', 'extra_plugins': {SAMPLE_PLUGINS!r}}}));"
        "set_plugin_enabled('recorder', sys.argv[1] == 'on')")
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    subprocess.run([sys.executable, "-c", script, "on"], check=True, env=env, cwd=str(ROOT), timeout=60)
    assert registry.is_enabled("recorder")
    subprocess.run([sys.executable, "-c", script, "off"], check=True, env=env, cwd=str(ROOT), timeout=60)
    assert not registry.is_enabled("recorder")


def test_refresh_period_bounds_how_stale_a_process_can_be(workdesk_app):
    registry = get_registry()
    registry.refresh_seconds = 0.2
    registry.refresh(force=True)
    PluginState.insert(name="recorder", enabled=True).on_conflict_replace().execute()
    time.sleep(0.25)  # the refresh period itself is what is under test here
    assert registry.is_enabled("recorder")


def test_routes_of_a_disabled_plugin_answer_404(workdesk_app, client):
    bp = Blueprint("recorder_pages", __name__, url_prefix="/recorder")
    bp.add_url_rule("/ping", "ping", lambda: "pong")
    workdesk_app.register_blueprint(bp)
    workdesk_app.extensions["workdesk_blueprint_owner"]["recorder_pages"] = "recorder"
    assert client.get("/recorder/ping").status_code == 404
    set_plugin_enabled("recorder", True)
    assert client.get("/recorder/ping").data == b"pong"
    set_plugin_enabled("recorder", False)
    response = client.get("/recorder/ping", headers={"Accept": "application/json"})
    assert response.status_code == 404 and response.json["error"]["code"] == "not_found"


def test_plugin_permissions_join_the_catalogue(workdesk_app):
    from workdesk.schema import all_permissions
    perms = all_permissions(get_registry())
    assert perms["recorder.read"] == "Read the recorder's log"
    assert "task.create" in perms and "hello.view_counts" in perms


def test_each_task_event_reaches_plugins_with_its_arguments(workdesk_app, make_department, make_user,
                                                            enable_plugin, drain_events):
    from tests.core.sample_plugins import HandledEvent
    enable_plugin("recorder")
    dept = make_department()
    agent = make_user("agent", departments=[dept])
    other = make_user("agent", departments=[dept])
    task = tasks.create_task(agent, title="events", department_id=dept.id, assignee_id=agent.id)
    tasks.update_task(agent, task.id, {"priority": "high", "assignee_id": other.id})
    tasks.add_comment(agent, task.id, "a note")
    assert drain_events() >= 5  # the five task events, plus any notifications they cause
    seen = [(e.kind, e.detail) for e in HandledEvent.select().order_by(HandledEvent.event_id)]
    assert seen == [("created", "events"), ("assigned", str(agent.id)),
                    ("updated", '["assignee_id", "priority"]'), ("assigned", str(other.id)),
                    ("commented", "a note")]
    assert drain_events() == 0  # nothing is delivered twice
