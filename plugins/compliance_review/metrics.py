"""Review lead time per stage, contributed to the reports plugin (``register_report_metrics``).

For the reviews of the tasks in the report's scope: each stage (by name) decided in the period — its
``decided_at`` within it — counts once per round it was decided in; its lead time runs from the stage's
``started_at`` (it became active) to ``decided_at`` (passed, failed, timed out or expedited). Median
and 90th percentile by nearest rank, computed by the database; time-outs counted apart.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from peewee import Case, fn

from workdesk import ReportMetric, ReportScope, ReportTable, elapsed_seconds

from .models import Review, ReviewStage


def lead_time_per_stage(scope: ReportScope) -> ReportTable:
    hours = elapsed_seconds(ReviewStage.started_at, ReviewStage.decided_at) / 3600.0
    ranked = (ReviewStage.select(ReviewStage.name.alias("stage"), hours.alias("hours"),
                                 ReviewStage.outcome.alias("outcome"),
                                 fn.ROW_NUMBER().over(partition_by=[ReviewStage.name], order_by=[hours]).alias("rn"),
                                 fn.COUNT(ReviewStage.id).over(partition_by=[ReviewStage.name]).alias("n"))
              .join(Review, on=(ReviewStage.review == Review.id))
              .where(Review.task_id.in_(scope.task_ids()) & ReviewStage.started_at.is_null(False)
                     & (ReviewStage.decided_at >= scope.start) & (ReviewStage.decided_at < scope.end)))
    r = ranked.alias("ranked")
    median = fn.MAX(Case(None, [(r.c.rn == (r.c.n + 1) / 2, r.c.hours)], None))
    p90 = fn.MAX(Case(None, [(r.c.rn == (r.c.n * 9 + 9) / 10, r.c.hours)], None))
    timeouts = fn.SUM(Case(None, [(r.c.outcome == "timeout", 1)], 0))
    query = (ReviewStage.select(r.c.stage, fn.COUNT(r.c.stage), median, p90, timeouts).from_(r)
             .group_by(r.c.stage).order_by(r.c.stage))
    rows = [{"stage": stage, "decided": int(count), "median_hours": None if m is None else round(float(m), 2),
             "p90_hours": None if p is None else round(float(p), 2), "timed_out": int(t or 0)}
            for stage, count, m, p, t in query.tuples()]
    return ReportTable(columns=[("stage", _l("Stage")), ("decided", _l("Stages decided")),
                                ("median_hours", _l("Median lead time (hours)")),
                                ("p90_hours", _l("90th percentile (hours)")), ("timed_out", _l("Timed out"))],
                       rows=rows, chart="bar",
                       note=_l("From a stage becoming active to its decision, for stages decided in the period."))


METRICS = [ReportMetric("compliance_review.lead_time", _l("Review lead time per stage"), lead_time_per_stage,
                        _l("How long each review stage took from becoming active to its decision."))]
