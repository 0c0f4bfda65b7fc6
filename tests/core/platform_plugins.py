"""Plugins for the plugin platform's tests: failing decisions, hook mistakes, lifecycle, deletions."""
from __future__ import annotations

from workdesk import Plugin, hookimpl

DELETED: list[dict] = []  # what on_task_deleted received, in this process


class FailOpenVetoPlugin(Plugin):
    """Fail-open veto

    Its veto is broken; it declares nothing, so its failure counts as no opinion.
    """
    name = "failopen"

    @hookimpl
    def veto_transition(self, task, new_status):
        raise RuntimeError("veto crashed")


class FailClosedVetoPlugin(Plugin):
    """Fail-closed veto

    Its veto is broken, and it declares that a failure must block.
    """
    name = "failclosed"
    fails_closed = frozenset({"veto_transition"})

    @hookimpl
    def veto_transition(self, task, new_status):
        raise RuntimeError("review store unreachable")


class MisspeltPlugin(Plugin):
    """Misspelt"""
    name = "misspelt"

    @hookimpl
    def on_task_create(self, task):
        raise AssertionError("never called")


class UnmarkedPlugin(Plugin):
    """Unmarked"""
    name = "unmarked"

    def on_task_created(self, task):
        raise AssertionError("never called")


class BadArgumentPlugin(Plugin):
    """Bad argument"""
    name = "badargument"

    @hookimpl
    def on_task_created(self, task, colour):
        raise AssertionError("never called")


class LifecyclePlugin(Plugin):
    """Lifecycle

    Refuses to be enabled while its setting says so; remembers being disabled.
    """
    name = "lifecycle"
    calls: list[str] = []

    @hookimpl
    def on_plugin_enabled(self):
        LifecyclePlugin.calls.append("enabled")
        if LifecyclePlugin.refuse:
            raise RuntimeError("the licence server said no")

    @hookimpl
    def on_plugin_disabled(self):
        LifecyclePlugin.calls.append("disabled")
        raise RuntimeError("could not say goodbye")

    refuse = False


class DeletionWatcherPlugin(Plugin):
    """Deletion watcher"""
    name = "deletions"

    @hookimpl
    def on_task_deleted(self, task_id, snapshot, actor, event):
        DELETED.append({"task_id": task_id, "snapshot": snapshot, "actor": actor.id if actor else None,
                        "kind": event["kind"]})


class IncidentPriorityPlugin(Plugin):
    """Incident priority

    Incidents are at least high priority, and nobody may lower them below that.
    """
    name = "incidents"

    @hookimpl
    def adjust_task_change(self, task, changes):
        kind = changes.get("type") or (task.type if task is not None else "task")
        if kind == "incident" and changes.get("priority", task.priority if task else "normal") in ("low", "normal"):
            return {"priority": "high"}
        return None

    @hookimpl
    def veto_task_change(self, task, changes):
        if "department_id" in changes and changes["department_id"][0] is not None and task.type == "incident":
            return "incidents stay with the department that took them"
        return None


class RaisingProposerPlugin(Plugin):
    """Raising proposer"""
    name = "raisingproposer"

    @hookimpl
    def propose_assignee(self, task, candidates):
        raise RuntimeError("dispatch rules table missing")


class RotaPlugin(Plugin):
    """Rota

    Keeps a roster for the department named "Night desk" only, and proposes whoever is on it.
    """
    name = "rota"
    assignment_rank = 90
    on_duty: list = []

    @hookimpl
    def people_on_duty(self, department_id, at):
        from workdesk import Department
        if Department.get_by_id(department_id).name != "Night desk":
            return None
        return list(RotaPlugin.on_duty)

    @hookimpl
    def propose_assignee(self, task):
        return RotaPlugin.on_duty[0] if RotaPlugin.on_duty else None


class RulesPlugin(Plugin):
    """Rules

    Gives urgent work to the department's first candidate.
    """
    name = "rules"
    assignment_rank = 10

    @hookimpl
    def propose_assignee(self, task, candidates):
        return candidates[0] if task.priority == "urgent" and candidates else None
