"""One report request, read the same way by the dashboard, the CSV export and the API."""
from __future__ import annotations

from typing import Any, Mapping

import marshmallow
from flask_babel import gettext as _

from workdesk import NotFound, ReportMetric, ReportScope, ReportTable, User, ValidationFailed, record_error

from .schemas import ReportQuery
from .scope import Period, build_scope, make_period, reportable_departments

SCOPE_KEYS = ("from", "to", "department", "person")


def read_request(viewer: User, args: Mapping[str, str]) -> tuple[ReportScope, Period]:
    """The scope and period asked for by query-string ``args``: 422 naming a wrong parameter, 404 for a
    department the viewer may not report on, 403 without ``reports.view``."""
    own = {k: v for k, v in args.items() if k in SCOPE_KEYS and str(v).strip() != ""}
    listing = {k: v for k, v in args.items() if k not in SCOPE_KEYS}
    try:
        loaded = ReportQuery().load(own)
    except marshmallow.ValidationError as exc:
        raise ValidationFailed(_("Some fields are not valid."), {
            k: [str(m) for m in v] if isinstance(v, list) else [str(v)] for k, v in exc.messages.items()}) from None
    period = make_period(loaded.get("from_"), loaded.get("to"), viewer.zone)
    scope = build_scope(viewer, period, loaded.get("department"), loaded.get("person"), listing)
    return scope, period


def compute(metric: ReportMetric, scope: ReportScope) -> ReportTable | None:
    """A metric's table; a contributed metric that raises is recorded against its plugin and left out."""
    if metric.plugin == "reports":
        return metric.compute(scope)
    try:
        table = metric.compute(scope)
    except Exception as exc:  # a plugin's metric must not take the dashboard down
        record_error(metric.plugin or "reports", f"report metric {metric.key!r} raised {exc!r}; left out")
        return None
    if not isinstance(table, ReportTable):
        record_error(metric.plugin or "reports", f"report metric {metric.key!r} returned {table!r}, not a ReportTable")
        return None
    return table


def metric_table(viewer: User, metric_key: str, args: Mapping[str, str]) -> tuple[ReportMetric, ReportTable, Period]:
    """One metric for the scope ``args`` ask for, as the CSV export and the API serve it: 403 without
    ``reports.view``, 404 for a metric that is not shown (unknown, or its plugin is off or failed)."""
    from . import metrics
    reportable_departments(viewer)
    metric = metrics.find(metric_key)
    if metric is None:
        raise NotFound(_("No such report."))
    scope, period = read_request(viewer, args)
    table = compute(metric, scope)
    if table is None:
        raise NotFound(_("No such report."))
    return metric, table, period


def table_to_dict(metric: ReportMetric, table: ReportTable, period: Period) -> dict[str, Any]:
    def plain(value: Any) -> Any:
        return value.isoformat() if hasattr(value, "isoformat") else value
    return {"key": metric.key, "title": str(metric.title), "description": str(metric.description or ""),
            "plugin": metric.plugin, "chart": table.chart,
            "columns": [{"key": k, "label": str(label)} for k, label in table.columns],
            "rows": [{k: plain(v) for k, v in row.items()} for row in table.rows],
            "links": list(table.links) or [None] * len(table.rows),
            "note": str(table.note) if table.note else None,
            "period": {"from": period.first.isoformat(), "to": period.last.isoformat(), "zone": period.zone.key}}
