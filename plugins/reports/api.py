"""JSON API under /api/v1/reports: the metrics you may read, each as a table for a scope."""
from __future__ import annotations

from flask import request

from workdesk import api_blueprint, api_operation, require_api_user

from . import metrics
from .schemas import MetricListSchema, ReportTableSchema, report_query_schema
from .scope import reportable_departments
from .service import metric_table, table_to_dict

blueprint = api_blueprint("reports_api", __name__, url_prefix="/api/v1/reports")
TAGS = ("reports",)


@blueprint.get("")
@api_operation("List report metrics", tags=TAGS, response=MetricListSchema)
def list_metrics():
    """Every metric the dashboard shows: the plugin's own and those of enabled plugins. Needs
    ``reports.view`` (your departments) or ``reports.view_all``."""
    reportable_departments(require_api_user())
    return {"items": [{"key": m.key, "title": str(m.title), "description": str(m.description or ""),
                       "plugin": m.plugin} for m in metrics.catalogue()]}


@blueprint.get("/<metric_key>")
@api_operation("One report metric", tags=TAGS, query=report_query_schema, response=ReportTableSchema)
def show_metric(metric_key: str):
    """The metric for a period (``from``/``to``, local days in your time zone; default the last 30
    days), a department you may report on (with its sub-departments), a person, and any task-list
    filter: labelled columns, rows, and per row the task-list URL counting it."""
    metric, table, period = metric_table(require_api_user(), metric_key, request.args)
    return table_to_dict(metric, table, period)
