"""The register_report_metrics hook: what plugins contribute to the reports plugin, and its error policy."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from workdesk import ReportMetric, ReportScope, ReportTable, Task, contributed_metrics, utcnow
from workdesk.registry import PluginState
from tests.sla_plugin import TEST_PLUGINS as SLA_PLUGINS
from tests.sla_plugin.models import SlaClock


@pytest.fixture
def workdesk_config(workdesk_config):
    return {**workdesk_config, "extra_plugins": [*workdesk_config.get("extra_plugins", []), *SLA_PLUGINS]}


def test_enabled_plugins_contribute_metrics_that_compute_in_scope(workdesk_app, cast, make_task, enable_plugin):
    with workdesk_app.app_context():
        assert [m.key for m in contributed_metrics()] == []  # a disabled plugin contributes nothing
        enable_plugin("slatest")
        metrics = contributed_metrics()
        assert [(m.key, m.plugin) for m in metrics] == [("slatest.clocks", "slatest")]
        # an item named after another plugin, and one that is not a metric, are recorded and left out
        recorded = PluginState.get(PluginState.name == "slatest").last_error
        assert "must be named 'slatest.<name>'" in recorded or "not a workdesk.ReportMetric" in recorded
        in_it = make_task(cast.requester, cast.it, title="IT work")
        elsewhere = make_task(cast.requester, cast.facilities, title="Facilities work")
        for task in (in_it, elsewhere):
            SlaClock.create(task_id=task.id, state="breached", deadline=utcnow())
        now = utcnow()
        scope = ReportScope(start=now - dt.timedelta(days=30), end=now, viewer=cast.admin, zone=ZoneInfo("UTC"),
                            department_ids=(cast.it.id,), task_query=Task.select().where(Task.department == cast.it))
        table = metrics[0].compute(scope)
        assert [dict(row) for row in table.rows] == [{"state": "breached", "tasks": 1}]


def test_a_table_and_a_metric_check_their_shape():
    with pytest.raises(ValueError, match="chart"):
        ReportTable(columns=[("a", "A")], rows=[], chart="pie")
    with pytest.raises(ValueError, match="one URL"):
        ReportTable(columns=[("a", "A")], rows=[{"a": 1}], links=["/x", "/y"])
    with pytest.raises(ValueError, match="plugin"):
        ReportMetric("no-dot", "Bad", lambda scope: None)
