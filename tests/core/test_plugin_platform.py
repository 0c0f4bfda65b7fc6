"""Plugin platform 1.1: every hook call through pluggy with one error policy per family, hook mistakes
refused by name, lifecycle hooks, the deleted-task event, field vetoes and adjustments, errors filed
under their owner."""
from __future__ import annotations

import datetime as dt

import pytest

from workdesk import Task, TaskEvent
from workdesk.jobs import CORE_JOBS, PeriodicJob, run_due_jobs
from workdesk.models import PluginState
from workdesk.registry import PluginError, get_registry, set_plugin_enabled
from workdesk.services import tasks

from . import platform_plugins
from .conftest import SAMPLE_PLUGINS

PLATFORM = "tests.core.platform_plugins"
PLATFORM_PLUGINS = [f"{PLATFORM}:{cls}" for cls in (
    "FailOpenVetoPlugin", "FailClosedVetoPlugin", "MisspeltPlugin", "UnmarkedPlugin", "BadArgumentPlugin",
    "LifecyclePlugin", "DeletionWatcherPlugin", "IncidentPriorityPlugin", "RaisingProposerPlugin", "RotaPlugin",
    "RulesPlugin")]


@pytest.fixture
def workdesk_config(workdesk_config):
    return {**workdesk_config, "extra_plugins": SAMPLE_PLUGINS + PLATFORM_PLUGINS}


@pytest.fixture
def desk(workdesk_app, make_department, make_user, make_task):
    dept = make_department("Support")
    agent = make_user("agent", departments=[dept])
    return {"dept": dept, "agent": agent, "admin": make_user("admin"),
            "task": make_task(agent, dept, title="Printer", description="jams")}


def last_error(owner: str) -> str | None:
    state = PluginState.get_or_none(PluginState.name == owner)
    return state.last_error if state else None


def walk(actor, task_id, *statuses):
    for status in statuses:
        tasks.transition(actor, task_id, status)


# -- decisions ------------------------------------------------------------------------------------

@pytest.mark.parametrize("workdesk_database", ["sqlite", "postgresql"], indirect=True)
def test_a_raising_veto_is_recorded_and_does_not_block_or_fail_other_transitions(desk, enable_plugin, api_client):
    enable_plugin("failopen")
    client = api_client(user=desk["agent"])
    for status in ("open", "in_progress", "resolved"):
        answer = client.patch(f"/api/v1/tasks/{desk['task'].id}", json={"status": status})
        assert answer.status_code == 200, answer.json
    assert Task.get_by_id(desk["task"].id).status == "resolved"
    assert "veto_transition raised RuntimeError('veto crashed')" in last_error("failopen")


@pytest.mark.parametrize("workdesk_database", ["sqlite", "postgresql"], indirect=True)
def test_a_raising_veto_that_fails_closed_blocks_with_a_clear_409(desk, enable_plugin, api_client):
    enable_plugin("failclosed")
    answer = api_client(user=desk["agent"]).patch(f"/api/v1/tasks/{desk['task'].id}", json={"status": "open"})
    assert answer.status_code == 409
    error = answer.json["error"]
    assert error["code"] == "transition_blocked" and error["plugin"] == "failclosed"
    assert error["message"].startswith("Fail-closed veto could not check this change, so it is refused")
    assert Task.get_by_id(desk["task"].id).status == "new"
    # The refused change rolled back; the record of why it was refused did not.
    assert "review store unreachable" in last_error("failclosed")


def test_a_raising_proposer_leaves_the_task_unassigned_and_is_filed_under_its_name(desk, enable_plugin, make_task):
    enable_plugin("raisingproposer")
    task = make_task(desk["agent"], desk["dept"], title="No one yet")
    assert task.assignee_id is None and Task.get_by_id(task.id).title == "No one yet"
    assert "dispatch rules table missing" in last_error("raisingproposer")
    assert PluginState.get_or_none(PluginState.name == "propose_assignee") is None


def test_adjust_and_veto_task_change(desk, enable_plugin, make_task, make_department):
    enable_plugin("incidents")
    incident = make_task(desk["agent"], desk["dept"], title="Server down", type="incident", priority="low")
    assert incident.priority == "high"  # adjusted on creation, and recorded so in the trail
    created = TaskEvent.get((TaskEvent.task_id == incident.id) & (TaskEvent.kind == "created"))
    assert created.changes["priority"] == [None, "high"]
    assert tasks.update_task(desk["agent"], incident.id, {"priority": "normal"}).priority == "high"
    other = make_department("Network")
    with pytest.raises(Exception) as refused:
        tasks.update_task(desk["admin"], incident.id, {"department_id": other.id})
    assert refused.value.code == "change_blocked" and refused.value.status == 409
    assert refused.value.message == ("Incident priority blocks this change: "
                                     "incidents stay with the department that took them")
    assert Task.get_by_id(incident.id).department_id == desk["dept"].id
    plain = make_task(desk["agent"], desk["dept"], title="Toner", priority="low")
    assert plain.priority == "low" and tasks.update_task(desk["admin"], plain.id,
                                                         {"department_id": other.id}).department_id == other.id


# -- hook mistakes are refused at load ----------------------------------------------------------------

def test_a_misspelt_hook_is_refused_with_both_names(workdesk_app):
    info = get_registry().plugins["misspelt"]
    assert not info.loaded
    assert info.error == ("refused: plugin 'misspelt' implements 'on_task_create', which is not a Workdesk hook "
                          "(did you mean 'on_task_created'?); see docs/hooks.md")
    with pytest.raises(PluginError, match="on_task_create"):
        set_plugin_enabled("misspelt", True)


def test_an_unmarked_hook_method_and_a_wrong_argument_are_refused(workdesk_app):
    assert "defines 'on_task_created' without @hookimpl" in get_registry().plugins["unmarked"].error
    bad = get_registry().plugins["badargument"].error
    assert bad.startswith("refused:") and "colour" in bad
    assert "misspelt" not in {name for name, _ in get_registry().manager.list_name_plugin()}


def test_refused_plugins_are_shown_in_the_admin_panel(desk, client, login):
    login(client, desk["admin"])
    page = client.get("/admin/plugins/").get_data(as_text=True)
    assert "on_task_create" in page and "did you mean" in page and ">refused<" in page
    assert "schema 2/2" in page  # the applied and latest migration of recurring and hello


# -- lifecycle --------------------------------------------------------------------------------------

def test_lifecycle_hooks(workdesk_app, monkeypatch):
    monkeypatch.setattr(platform_plugins.LifecyclePlugin, "calls", [])
    monkeypatch.setattr(platform_plugins.LifecyclePlugin, "refuse", True)
    with pytest.raises(PluginError, match="the licence server said no"):
        set_plugin_enabled("lifecycle", True)
    assert not get_registry().is_enabled("lifecycle")
    monkeypatch.setattr(platform_plugins.LifecyclePlugin, "refuse", False)
    set_plugin_enabled("lifecycle", True)
    set_plugin_enabled("lifecycle", True)  # already enabled: not called again
    set_plugin_enabled("lifecycle", False)  # a disabled plugin's hook runs, and its error does not stop it
    assert platform_plugins.LifecyclePlugin.calls == ["enabled", "enabled", "disabled"]
    assert not get_registry().is_enabled("lifecycle")
    assert "could not say goodbye" in last_error("lifecycle")


# -- events ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("workdesk_database", ["sqlite", "postgresql"], indirect=True)
def test_a_deleted_task_reaches_the_plugins_hook(desk, enable_plugin, drain_events, monkeypatch):
    monkeypatch.setattr(platform_plugins, "DELETED", [])
    enable_plugin("deletions")
    task = desk["task"]
    tasks.delete_task(desk["admin"], task.id)
    assert platform_plugins.DELETED == []  # after commit, on a worker
    drain_events()
    assert platform_plugins.DELETED == [{
        "task_id": task.id, "actor": desk["admin"].id, "kind": "task.deleted",
        "snapshot": {"id": task.id, "number": task.number, "title": "Printer", "status": "new",
                     "department_id": desk["dept"].id, "reporter_id": desk["agent"].id, "assignee_id": None}}]


# -- errors are filed under their owner -----------------------------------------------------------------

def test_a_failing_core_job_is_filed_under_core(workdesk_app, monkeypatch):
    def broken(now, since):
        raise RuntimeError("digest table gone")
    monkeypatch.setitem(CORE_JOBS, "core.broken", PeriodicJob("broken", broken))
    assert run_due_jobs(now=dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc))["core.broken"] == "failed"
    assert "job core.broken failed" in last_error("core")


def test_a_failing_plugin_job_is_filed_under_the_plugin(workdesk_app, enable_plugin, monkeypatch):
    enable_plugin("recorder")
    monkeypatch.setenv("RECORDER_JOB_LOG", "/nonexistent-dir/log")
    assert run_due_jobs(now=dt.datetime(2026, 3, 1, tzinfo=dt.timezone.utc))["recorder.log_now"] == "failed"
    assert "job recorder.log_now failed" in last_error("recorder")


# -- assignment precedence and duty -------------------------------------------------------------------

def test_assignment_precedence_is_the_rank_and_an_explicit_assignee_wins(workdesk_app, enable_plugin, make_department,
                                                                       make_user, make_task, monkeypatch):
    from workdesk import people_on_duty
    night = make_department("Night desk")
    first, second = make_user("agent", departments=[night]), make_user("agent", departments=[night])
    monkeypatch.setattr(platform_plugins.RotaPlugin, "on_duty", [second])
    enable_plugin("rota")  # enabled before the rules plugin: registration order does not decide, the rank does
    enable_plugin("rules")
    at = dt.datetime(2026, 3, 1, 22, tzinfo=dt.timezone.utc)
    assert people_on_duty(night.id, at) == [second]
    assert people_on_duty(make_department("Day desk").id, at) is None  # no roster there
    assert make_task(first, night, priority="urgent").assignee_id == first.id  # rules (10) before duty (90)
    assert make_task(first, night, priority="low").assignee_id == second.id  # no rule: whoever is on duty
    assert make_task(first, night, priority="urgent", assignee_id=second.id).assignee_id == second.id
    monkeypatch.setattr(platform_plugins.RotaPlugin, "on_duty", [])
    assert people_on_duty(night.id, at) == []  # deliberately nobody


def test_dispatch_proposes_only_people_who_may_be_assigned(workdesk_app, enable_plugin, make_department, make_user,
                                                           make_task, monkeypatch):
    """Candidates are the core's eligible assignees; a proposal of anyone else is recorded against the plugin
    and ignored (the next plugin is asked, else the task stays unassigned)."""
    night = make_department("Night desk")
    requester = make_user("requester", departments=[night])
    outsider = make_user("agent", departments=[make_department("Day desk")])
    agent = make_user("agent", departments=[night])
    enable_plugin("rules")
    enable_plugin("rota")
    # The rules plugin gives urgent work to its first candidate: the requester, had they been one.
    assert make_task(agent, night, priority="urgent").assignee_id == agent.id
    for proposed in (requester, outsider):
        monkeypatch.setattr(platform_plugins.RotaPlugin, "on_duty", [proposed])
        task = make_task(agent, night, priority="low")
        assert task.assignee_id is None
        assert f"propose_assignee proposed user {proposed.id}, who may not be assigned" in last_error("rota")
    monkeypatch.setattr(platform_plugins.RotaPlugin, "on_duty", [agent])
    assert make_task(agent, night, priority="low").assignee_id == agent.id
