"""A test plugin shaped like ``escalation`` will be: an SLA filter and a "nearest deadline" sort on a table of
its own, joined to the task list. Also two broken plugins for the hook's error policy."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from peewee import JOIN

from peewee import fn

from workdesk import Plugin, ReportMetric, ReportTable, Task, TaskFilter, TaskSort, hookimpl

from .models import MODELS, SlaClock


def sla_condition(query, value, context):
    # A subquery, not a join: a filter must never repeat a task.
    clocks = SlaClock.select(SlaClock.task_id).where(SlaClock.state == value)
    return query.where(Task.id.in_(clocks))


def clocks_by_state(scope):
    count = fn.COUNT(SlaClock.id)
    rows = (SlaClock.select(SlaClock.state, count.alias("tasks")).where(SlaClock.task_id.in_(scope.task_ids()))
            .group_by(SlaClock.state).order_by(SlaClock.state))
    return ReportTable(columns=[("state", _l("State")), ("tasks", _l("Tasks"))],
                       rows=[{"state": row.state, "tasks": row.tasks} for row in rows], chart="bar")


def join_clock(query):
    return query.join_from(Task, SlaClock, JOIN.LEFT_OUTER, on=(SlaClock.task_id == Task.id))


class SlaPlugin(Plugin):
    """SLA test

    Filters tasks on their SLA state and sorts them by their nearest deadline.
    """
    name = "slatest"
    version = "0.1.0"

    @hookimpl
    def register_models(self):
        return MODELS

    @hookimpl
    def register_task_filters(self):
        return [
            TaskFilter("sla", _l("SLA"), sla_condition,
                       choices=[("at_risk", _l("At risk")), ("breached", _l("Breached"))],
                       description="at_risk or breached"),
            TaskSort("sla_deadline", _l("SLA deadline"), SlaClock.deadline, join=join_clock,
                     ascending_label=_l("Nearest deadline first"), descending_label=_l("Furthest deadline first")),
        ]

    @hookimpl
    def register_report_metrics(self):
        return [ReportMetric("slatest.clocks", _l("Clocks by state"), clocks_by_state),
                ReportMetric("other.clocks", "Named after another plugin", clocks_by_state),
                "not a metric"]


def exploding_condition(query, value, context):
    raise RuntimeError("the filter table is gone")


def exploding_join(query):
    raise RuntimeError("the sort table is gone")


class BrokenFiltersPlugin(Plugin):
    """Broken filters

    One filter whose apply raises, a sort whose join raises, one item that is not a filter, and a name
    already taken.
    """
    name = "brokenfilters"

    @hookimpl
    def register_task_filters(self):
        return [TaskFilter("boom", "Boom", exploding_condition, choices=[("yes", "Yes")]),
                TaskSort("boomsort", "Boom", Task.id, kind=int, join=exploding_join),
                "not a filter",
                TaskFilter("status", "Status again", exploding_condition, choices=[("x", "X")])]


class RaisingFiltersPlugin(Plugin):
    """Raising filters"""
    name = "raisingfilters"

    @hookimpl
    def register_task_filters(self):
        raise RuntimeError("could not build my filters")


TEST_PLUGINS = [f"tests.sla_plugin:{name}" for name in ("SlaPlugin", "BrokenFiltersPlugin", "RaisingFiltersPlugin")]
