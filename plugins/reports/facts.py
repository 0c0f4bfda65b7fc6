"""The reports' per-task facts, derived from the audit trail in SQL, set-based.

Every metric used to parse the JSON of the audit rows it read, once per metric and per report. The
facts (``reports_task_fact``, ``reports_status_interval``, ``reports_assignment``, see ``models.py``)
hold what the metrics need of the trail as plain indexed columns, so each metric is one grouped read.

One function derives them: ``refresh(task_ids)`` deletes the facts of those tasks and writes them again
from their trail with three ``INSERT ... SELECT`` statements (the trail's JSON parsed once per row).

- The event handlers (``on_task_created``/``updated``/``commented``/``assigned``) refresh the one task
  concerned. The handlers run on a worker after commit, at least once and not necessarily in order:
  recomputing the task from its whole trail (a few indexed rows) makes a redelivery or a late delivery
  harmless, where adding a delta would count it twice or out of order.
- ``rebuild()`` refreshes every task at once: when the plugin is enabled (its handlers did not run while
  it was off), by the migration that adds the tables (existing installs), and by
  ``workdesk reports rebuild``.
"""
from __future__ import annotations

from typing import Iterable, Sequence

from workdesk import DONE_STATUSES, OPEN_STATUSES, write_transaction

from .sql import epoch, execute, has_key, is_postgres, json_value, run

TABLES = ("reports_task_fact", "reports_status_interval", "reports_assignment")


def _in(values: tuple[str, ...]) -> str:
    return "(" + ", ".join(f"'{v}'" for v in values) + ")"


OPEN_SQL, DONE_SQL = _in(OPEN_STATUSES), _in(DONE_STATUSES)


def _events(where: str) -> str:
    """The audit rows of the tasks concerned, each with the values the facts need read out of its JSON."""
    has_status, has_dept, has_assignee = (has_key("e.changes", k) for k in ("status", "department_id", "assignee_id"))
    return (f"SELECT e.id, e.task_id, e.at, e.kind, e.actor_id, "
            f"CASE WHEN {has_status} THEN 1 ELSE 0 END AS hs, "
            f"CASE WHEN {has_status} THEN {json_value('e.changes', 'status', 0)} END AS st_old, "
            f"CASE WHEN {has_status} THEN {json_value('e.changes', 'status', 1)} END AS st_new, "
            f"CASE WHEN {has_dept} THEN 1 ELSE 0 END AS hd, "
            f"CASE WHEN {has_dept} THEN {json_value('e.changes', 'department_id', 1, True)} END AS dp_new, "
            f"CASE WHEN {has_assignee} THEN 1 ELSE 0 END AS ha, "
            f"CASE WHEN {has_assignee} THEN {json_value('e.changes', 'assignee_id', 0, True)} END AS as_old, "
            f"CASE WHEN {has_assignee} THEN {json_value('e.changes', 'assignee_id', 1, True)} END AS as_new "
            f"FROM core_task_event e WHERE {where}")


ENTERS_DONE = f"(ev.hs = 1 AND ev.st_old IN {OPEN_SQL} AND ev.st_new IN {DONE_SQL})"
REOPENS = f"(ev.hs = 1 AND ev.st_old IN {DONE_SQL} AND ev.st_new IN {OPEN_SQL})"
TRANSFER = "(ev.kind = 'updated' AND ev.hd = 1)"
REASSIGNMENT = ("(ev.kind = 'updated' AND ev.ha = 1 AND ev.as_old IS NOT NULL AND ev.as_new IS NOT NULL "
                "AND ev.as_old <> ev.as_new)")
RESPONSE = ("(ev.actor_id IS NOT NULL AND ev.actor_id <> t.reporter_id "
            "AND (ev.kind = 'commented' OR (ev.kind = 'updated' AND ev.hs = 1)))")


def _write(ev: str, where_task: str, params: list) -> None:
    """The three INSERT ... SELECT statements; ``ev`` is the SQL of the parsed events (a CTE body),
    ``where_task`` the condition on ``t.id`` choosing the tasks (with ``params``)."""
    execute(f"INSERT INTO reports_task_fact (task_id, department_id, type, priority, status, assignee_id, reporter_id, "
        f"created_at, first_response_at, resolved_at, closed_at, reopen_count, transfer_count, first_transfer_at, "
        f"reassignment_count, first_reassignment_at) "
        f"WITH ev AS MATERIALIZED ({ev}), a AS (SELECT ev.task_id, "
        f"MIN(CASE WHEN {RESPONSE} THEN ev.at END) AS first_response_at, "
        f"MAX(CASE WHEN {ENTERS_DONE} THEN ev.at END) AS resolved_at, "
        f"MAX(CASE WHEN ev.hs = 1 AND ev.st_new = 'closed' THEN ev.at END) AS closed_at, "
        f"SUM(CASE WHEN {REOPENS} THEN 1 ELSE 0 END) AS reopens, "
        f"SUM(CASE WHEN {TRANSFER} THEN 1 ELSE 0 END) AS transfers, "
        f"MIN(CASE WHEN {TRANSFER} THEN ev.at END) AS first_transfer_at, "
        f"SUM(CASE WHEN {REASSIGNMENT} THEN 1 ELSE 0 END) AS reassignments, "
        f"MIN(CASE WHEN {REASSIGNMENT} THEN ev.at END) AS first_reassignment_at "
        f"FROM ev JOIN core_task t ON t.id = ev.task_id GROUP BY ev.task_id) "
        f"SELECT t.id, t.department_id, t.type, t.priority, t.status, t.assignee_id, t.reporter_id, t.created_at, "
        f"a.first_response_at, a.resolved_at, a.closed_at, COALESCE(a.reopens, 0), COALESCE(a.transfers, 0), "
        f"a.first_transfer_at, COALESCE(a.reassignments, 0), a.first_reassignment_at "
        f"FROM core_task t LEFT JOIN a ON a.task_id = t.id WHERE {where_task}", params)
    # Segments of a task's life: the status and department in force are carried forward from the rows
    # that set them by numbering those rows (a running COUNT) and taking the one value of each group.
    execute(f"INSERT INTO reports_status_interval (task_id, event_id, status, department_id, from_status, "
        f"status_changed, moved, started_at, ended_at, start_s, end_s, seconds) "
        f"WITH ev AS MATERIALIZED ({ev}), "
        f"b AS (SELECT ev.id, ev.task_id, ev.at, ev.kind, ev.hs, ev.hd, ev.st_old, "
        f"CASE WHEN ev.hs = 1 THEN ev.st_new END AS st, CASE WHEN ev.hd = 1 THEN ev.dp_new END AS dp FROM ev "
        f"WHERE ev.task_id IN (SELECT t.id FROM core_task t WHERE {where_task}) "
        f"AND (ev.kind = 'created' OR ev.hs = 1 OR ev.hd = 1)), "
        f"g AS (SELECT b.*, LEAD(at) OVER w AS next_at, COUNT(st) OVER w AS gs, COUNT(dp) OVER w AS gd "
        f"FROM b WINDOW w AS (PARTITION BY task_id ORDER BY at, id)) "
        f"SELECT task_id, id, MAX(st) OVER (PARTITION BY task_id, gs), MAX(dp) OVER (PARTITION BY task_id, gd), "
        f"CASE WHEN hs = 1 THEN st_old END, hs, CASE WHEN kind = 'updated' AND hd = 1 THEN 1 ELSE 0 END, "
        f"at, next_at, {epoch('at')}, {epoch('next_at')}, {epoch('next_at')} - {epoch('at')} FROM g", params)
    execute(f"INSERT INTO reports_assignment (task_id, event_id, at, assignee_id) "
        f"WITH ev AS MATERIALIZED ({ev}) "
        f"SELECT ev.task_id, ev.id, ev.at, ev.as_new FROM ev WHERE ev.ha = 1 AND ev.as_new IS NOT NULL "
        f"AND ev.task_id IN (SELECT t.id FROM core_task t WHERE {where_task})", params)


def refresh(task_ids: Iterable[int]) -> None:
    """Derive the facts of these tasks again from their trail (a deleted task's facts just go)."""
    ids = sorted({int(i) for i in task_ids})
    if not ids:
        return
    marks = ", ".join("?" for _ in ids)
    with write_transaction():
        if is_postgres():
            # Two workers refreshing one task at once would both delete, then both insert: serialise them.
            for task_id in ids:
                run("SELECT pg_advisory_xact_lock(?, ?)", [0x7265706F, task_id])
        for table in TABLES:
            execute(f"DELETE FROM {table} WHERE task_id IN ({marks})", ids)
        events = _events(f"e.task_id IN ({marks})")
        # The events' parameters come first in each statement (the CTE), then the task condition's.
        _write_with(events, ids, f"t.id IN ({marks})", ids)


def _write_with(events: str, event_params: Sequence[int], where_task: str, task_params: Sequence[int]) -> None:
    """``_write`` with the ``?`` of the events' SQL bound before those of the task condition."""
    _write(events, where_task, [*event_params, *task_params])


def rebuild() -> int:
    """Derive every task's facts from the whole audit trail; returns how many tasks have facts.

    Idempotent: the tables are emptied and written again in one transaction. The parsed events go
    through a temporary table, so the trail's JSON is read once for the three tables."""
    with write_transaction():
        for table in TABLES:
            execute(f"DELETE FROM {table}")
        execute("DROP TABLE IF EXISTS reports_rebuild_events")
        execute(f"CREATE TEMPORARY TABLE reports_rebuild_events AS {_events('1 = 1')}")
        _write("SELECT * FROM reports_rebuild_events", "1 = 1", [])
        execute("DROP TABLE reports_rebuild_events")
        for table in TABLES:  # the planner needs the tables' sizes to pick their indexes
            execute(f"ANALYZE {table}")
        return int(run("SELECT COUNT(*) FROM reports_task_fact")[0][0])


CATCH_UP_LIMIT = 500  # more tasks without facts than this: one set-based rebuild is cheaper


def catch_up() -> int:
    """Derive the facts of the tasks that have none, before a report is read; returns how many.

    Tasks whose trail was written without the task services have none: the demo company (``workdesk
    init --demo``, ``workdesk demo``) and imports write their rows directly and emit no events. So do
    tasks created a moment ago whose handler has not run yet on the worker. One anti-join over the
    facts' primary key finds them; a few are refreshed, many mean a rebuild."""
    missing = [int(r[0]) for r in run(
        "SELECT t.id FROM core_task t WHERE NOT EXISTS (SELECT 1 FROM reports_task_fact f WHERE f.task_id = t.id) "
        "LIMIT ?", [CATCH_UP_LIMIT + 1])]
    if len(missing) > CATCH_UP_LIMIT:
        return rebuild()
    refresh(missing)
    return len(missing)
