"""Metrics that plugins contribute to reports, defined once.

The ``reports`` plugin shows its own metrics and those every enabled plugin returns from the
``register_report_metrics`` hook (SLA compliance from ``escalation``, duty figures from
``duty_roster``, ...). A metric is a function from a :class:`ReportScope` (the period, the
departments and filters, who reads it) to a :class:`ReportTable` (labelled columns and rows, which
the reports plugin charts, tabulates, exports as CSV and serves in its API). A metric computes in
SQL (``GROUP BY`` on indexed columns), never by loading tasks into Python, and gives the same
answers on SQLite and PostgreSQL.
"""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence
from zoneinfo import ZoneInfo

import peewee

from .models import Task, User

METRIC_KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}\.[a-z][a-z0-9_]{0,59}$")
CHARTS = frozenset({"line", "bar", "stacked_bar"})


@dataclass(frozen=True)
class ReportScope:
    """What a report covers, and for whom.

    :param start: the period's first instant (aware UTC, inclusive).
    :param end: the period's end (aware UTC, exclusive).
    :param viewer: the person reading the report.
    :param zone: the reader's time zone: days, weeks and months are counted in it.
    :param department_ids: the departments covered, sub-departments included and already limited to
        those the viewer may report on; None means every department (only for ``reports.view_all``).
    :param user_id: only work assigned to this person (None: everybody's).
    :param task_query: the tasks in scope, as a ``peewee`` query of ``Task`` narrowed by the
        departments, the person and the task-list filters chosen (type, priority, customer, ...).
        Use it as a subquery: ``Task.id.in_(scope.task_query.select(Task.id))``.
    :param filters: the task-list filters chosen, by name, as loaded values (for metrics over a
        plugin's own rows that want to honour them).
    :param list_params: the same scope as task-list query parameters (text), so that a figure can link
        to the list it counts: see :meth:`task_list_url`. Optional; empty means "no narrowing".
    """
    start: dt.datetime
    end: dt.datetime
    viewer: User
    zone: ZoneInfo
    department_ids: tuple[int, ...] | None
    task_query: peewee.ModelSelect
    user_id: int | None = None
    filters: Mapping[str, Any] = field(default_factory=dict)
    list_params: Mapping[str, str] = field(default_factory=dict)

    def task_ids(self) -> peewee.ModelSelect:
        """The ids of the tasks in scope, ready for ``.in_(...)``."""
        return self.task_query.select(Task.id)

    def task_list_url(self, **params: Any) -> str:
        """The team app's task list (``/search``) narrowed to this scope and to ``params`` (task-list
        filters: ``status="active"``, ``assignee=7``...; a None value drops a scope parameter): the link
        a figure gives to the tasks it counts."""
        from urllib.parse import urlencode
        merged = {**self.list_params, **{k: v for k, v in params.items()}}
        return "/search?" + urlencode({k: str(v) for k, v in merged.items() if v is not None and v != ""})


@dataclass(frozen=True)
class ReportTable:
    """A metric's answer: the table shown beside its chart, exported as CSV and served as JSON.

    :param columns: ``(key, label)`` pairs; labels are lazy gettext strings, rendered for the reader.
    :param rows: one dict per row keyed by column key; values are ``int``, ``float`` (rounded by the
        reader's locale when shown), ``str``, ``datetime.date`` or None (no value: shown as "–").
    :param chart: ``"line"``, ``"bar"``, ``"stacked_bar"`` or None (a table only). The first column
        is the axis (a period or a name); the other numeric columns are the series.
    :param links: optional, one per row: the task-list URL (with its filters) counting that row's
        figure, or None. Every figure that counts tasks should link to them.
    :param note: optional sentence under the table (how the figure is defined, what was left out).
    """
    columns: Sequence[tuple[str, Any]]
    rows: Sequence[Mapping[str, Any]]
    chart: str | None = None
    links: Sequence[str | None] = ()
    note: Any = None

    def __post_init__(self) -> None:
        if self.chart is not None and self.chart not in CHARTS:
            raise ValueError(f"chart must be one of {sorted(CHARTS)} or None, not {self.chart!r}")
        if self.links and len(self.links) != len(self.rows):
            raise ValueError("links must give one URL (or None) per row")


@dataclass(frozen=True)
class ReportMetric:
    """One metric a plugin contributes to reports.

    :param key: ``<plugin>.<name>`` (``escalation.sla_compliance``): lower-case letters, digits and
        underscores; the reports API serves it at ``/api/v1/reports/<key>``.
    :param title: the metric's name on the dashboard (a lazy gettext string).
    :param compute: ``compute(scope) -> ReportTable``, querying in SQL only.
    :param description: one or two sentences saying precisely what is counted (lazy gettext).
    :param plugin: the plugin it comes from (set by the reports plugin from the hook's caller).
    """
    key: str
    title: Any
    compute: Callable[[ReportScope], ReportTable]
    description: Any = ""
    plugin: str | None = None

    def __post_init__(self) -> None:
        if not METRIC_KEY.match(self.key):
            raise ValueError(f"metric key {self.key!r} must read '<plugin>.<name>' in lower-case letters, digits "
                             "and underscores")


def elapsed_seconds(start: Any, end: Any) -> peewee.Node:
    """SQL for the seconds from ``start`` to ``end`` (two timestamp columns or expressions), spelled for
    the database in use: a metric's durations are computed by the database on SQLite and PostgreSQL alike."""
    from .db import is_sqlite
    if is_sqlite():
        return (peewee.fn.julianday(end) - peewee.fn.julianday(start)) * 86400.0
    return peewee.NodeList((peewee.SQL("EXTRACT(EPOCH FROM"), peewee.NodeList((end, peewee.SQL("-"), start)),
                            peewee.SQL(")")))


def contributed_metrics() -> list[ReportMetric]:
    """The metrics every enabled plugin returns from ``register_report_metrics``, each marked with its
    plugin. An item that is not a :class:`ReportMetric`, or whose key does not start with its
    plugin's name or repeats another's, is recorded against the plugin and left out."""
    from dataclasses import replace

    from .registry import get_registry, record_error
    metrics: dict[str, ReportMetric] = {}
    for plugin_name, item in get_registry().collect("register_report_metrics"):
        if not isinstance(item, ReportMetric):
            record_error(plugin_name, f"register_report_metrics returned {item!r}, not a workdesk.ReportMetric; left out")
            continue
        if not item.key.startswith(plugin_name + "."):
            record_error(plugin_name, f"report metric {item.key!r} must be named '{plugin_name}.<name>'; left out")
            continue
        if item.key in metrics:
            record_error(plugin_name, f"report metric {item.key!r} is registered twice; the second is left out")
            continue
        metrics[item.key] = replace(item, plugin=plugin_name)
    return list(metrics.values())


__all__ = ["ReportScope", "ReportTable", "ReportMetric", "contributed_metrics", "elapsed_seconds", "CHARTS"]
