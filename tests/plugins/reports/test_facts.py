"""The per-task facts: those the event handlers keep while work goes through the real services equal
those rebuilt from the audit trail, the rebuild is idempotent, and the CLI command runs it; on both
databases."""
from __future__ import annotations

import random

from .conftest import BOTH

pytestmark = BOTH


def snapshot() -> dict[str, list[tuple]]:
    from workdesk.plugins.reports.sql import run
    columns = {
        "reports_task_fact": "task_id, department_id, type, priority, status, assignee_id, reporter_id, created_at, "
                             "first_response_at, resolved_at, closed_at, reopen_count, transfer_count, "
                             "first_transfer_at, reassignment_count, first_reassignment_at",
        "reports_status_interval": "task_id, event_id, status, department_id, from_status, status_changed, moved, "
                                   "started_at, ended_at, seconds",
        "reports_assignment": "task_id, event_id, at, assignee_id",
    }
    return {table: [tuple(str(v) for v in row) for row in run(f"SELECT {cols} FROM {table} ORDER BY 1, 2")]
            for table, cols in columns.items()}


def random_history(make_department, make_user, make_task, drain_events, seed: int = 18) -> list[int]:
    """Tasks worked at random through the services (status moves along the workflow, reopens, transfers,
    reassignments, comments by agents and by the reporter), the handlers run after each change."""
    from workdesk import Task, services
    from workdesk.services.tasks import allowed_transitions
    rng = random.Random(seed)
    departments = [make_department(name) for name in ("Desk", "Field", "Lab")]
    agents = [make_user("agent", departments, name=f"Agent {i}") for i in range(3)]
    admin = make_user("admin", [], name="Admin")
    reporter = make_user("requester", [], name="Reporter")
    ids = []
    for n in range(10):
        assignee = rng.choice([None, *agents])
        # An agent files some tasks with an assignee (recorded in the creation row); requesters file the rest.
        task = (make_task(assignee, rng.choice(departments), title=f"Random {n}", assignee_id=assignee.id)
                if assignee else make_task(reporter, rng.choice(departments), title=f"Random {n}"))
        ids.append(task.id)
        filer = assignee or reporter
        drain_events()
        for _ in range(rng.randrange(3, 16)):
            status = Task.get_by_id(task.id).status
            move = rng.choice(("status",) * 6 + ("assign", "transfer", "comment", "reporter"))
            if move == "status" and allowed_transitions(status):
                services.tasks.transition(admin, task.id, rng.choice(allowed_transitions(status)))
            elif move == "assign":
                who = rng.choice([None, *agents, *agents])  # now and then an unassignment
                services.tasks.assign(admin, task.id, who.id if who else None)
            elif move == "transfer":
                services.tasks.update_task(admin, task.id, {"department_id": rng.choice(departments).id})
            elif move == "comment":
                services.tasks.add_comment(rng.choice(agents), task.id, "On it.")
            else:
                services.tasks.add_comment(filer, task.id, "Any news?")  # the reporter's: not a response
            drain_events()
    return ids


def test_facts_kept_by_the_handlers_equal_those_rebuilt_from_the_trail(
        workdesk_app, enable_plugin, make_department, make_user, make_task, drain_events):
    from workdesk.plugins.reports.facts import rebuild
    enable_plugin("reports")
    ids = random_history(make_department, make_user, make_task, drain_events)
    kept = snapshot()
    assert {row[0] for row in kept["reports_task_fact"]} == {str(i) for i in ids}
    assert len(kept["reports_status_interval"]) > len(ids)  # the random walk moved the tasks
    facts = kept["reports_task_fact"]
    # the walk covered what the facts count: responses, resolutions, reopens, transfers, reassignments
    assert all(any(row[i] not in ("0", "None") for row in facts) for i in (8, 9, 10, 11, 12, 14))
    assert rebuild() == len(ids)
    assert snapshot() == kept
    assert rebuild() == len(ids)  # idempotent
    assert snapshot() == kept


def test_a_deleted_task_loses_its_facts_and_enabling_rebuilds_them(
        workdesk_app, enable_plugin, make_department, make_user, make_task, drain_events):
    from workdesk import services
    from workdesk.plugins.reports.sql import run
    from workdesk.registry import set_plugin_enabled
    enable_plugin("reports")
    department = make_department("Desk")
    admin = make_user("admin", [], name="Admin")
    kept, gone = make_task(admin, department, title="Kept"), make_task(admin, department, title="Gone")
    drain_events()
    services.tasks.delete_task(admin, gone.id)
    drain_events()
    assert [r[0] for r in run("SELECT task_id FROM reports_task_fact")] == [kept.id]
    # Work done while the plugin is off reaches no handler: enabling it derives the facts again.
    set_plugin_enabled("reports", False)
    later = make_task(admin, department, title="While off")
    drain_events()
    assert [r[0] for r in run("SELECT task_id FROM reports_task_fact ORDER BY task_id")] == [kept.id]
    set_plugin_enabled("reports", True)
    assert [r[0] for r in run("SELECT task_id FROM reports_task_fact ORDER BY task_id")] == [kept.id, later.id]


def test_the_rebuild_command(workdesk_app, enable_plugin, make_department, make_user, make_task):
    from click.testing import CliRunner

    from workdesk.plugins.reports.cli import rebuild_command
    enable_plugin("reports")
    department = make_department("Desk")
    admin = make_user("admin", [], name="Admin")
    make_task(admin, department, title="One")
    result = CliRunner().invoke(rebuild_command, [])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("facts of 1 tasks rebuilt")


def test_tasks_written_without_the_services_get_their_facts_when_a_report_is_read(
        workdesk_app, enable_plugin, make_department, make_user):
    """The demo company and imports write the trail directly: no handler runs for them."""
    import datetime as dt

    from workdesk.plugins.reports import facts
    from workdesk.plugins.reports.scope import Period, build_scope
    from workdesk.plugins.reports.sql import run

    from .conftest import SOFIA, History
    enable_plugin("reports")
    desk = make_department("Desk")
    admin = make_user("admin", [], name="Admin", timezone="Europe/Sofia")
    h = History()
    task = h.task("2026-01-05T07:00Z", desk, admin)
    h.change(task, "2026-01-05T08:00Z", admin, status="open")
    assert run("SELECT COUNT(*) FROM reports_task_fact")[0][0] == 0
    build_scope(admin, Period(dt.date(2026, 1, 5), dt.date(2026, 1, 11), SOFIA))
    assert run("SELECT task_id, status FROM reports_task_fact") == [(task.id, "open")]
    assert run("SELECT COUNT(*) FROM reports_status_interval")[0][0] == 2
    assert facts.catch_up() == 0  # nothing left to do
