"""The dashboard, its navigation entry, permission scoping, CSV export and the API, on both databases."""
from __future__ import annotations

import csv
import io
import re

from .conftest import BOTH

pytestmark = BOTH
WEEK = "from=2026-01-05&to=2026-01-11"


def test_the_navigation_offers_reports_to_who_may_see_them(client, login, history):
    login(client, history.manager)
    assert 'href="/reports"' in client.get("/").text
    login(client, history.agent_a)  # an agent's role has no reports.view
    assert 'href="/reports"' not in client.get("/").text
    assert client.get("/reports").status_code == 403


def test_a_manager_sees_only_the_departments_they_head_or_belong_to(client, login, history):
    login(client, history.manager)  # member of IT: IT and Network below it, not Facilities
    page = client.get(f"/reports?{WEEK}")
    assert page.status_code == 200
    assert f'<option value="{history.network.id}">Network</option>' in page.text
    assert ">Facilities</option>" not in page.text
    assert client.get(f"/reports?{WEEK}&department={history.facilities.id}").status_code == 404
    api = client.get(f"/api/v1/reports/reports.volume?{WEEK}").get_json()
    assert sum(r["created"] for r in api["rows"]) == 3  # T3 moved to Facilities: not theirs any more
    login(client, history.facilities_head)
    api = client.get(f"/api/v1/reports/reports.volume?{WEEK}").get_json()
    assert sum(r["created"] for r in api["rows"]) == 1
    login(client, history.admin)  # reports.view_all (the admin role has every permission)
    api = client.get(f"/api/v1/reports/reports.volume?{WEEK}&department={history.facilities.id}").get_json()
    assert sum(r["created"] for r in api["rows"]) == 1


def test_the_dashboard_charts_every_metric_beside_its_table_with_links(client, login, history):
    login(client, history.admin)
    page = client.get(f"/reports?{WEEK}").text
    for key in ("reports.volume", "reports.response_times", "reports.rates", "reports.time_in_status",
                "reports.workload", "reports.satisfaction"):
        assert f'data-metric="{key}"' in page
    assert page.count("<svg") >= 5 and "<script" not in page
    assert 'href="/search?created_between=2026-01-04T22%3A00%3A00Z%2F2026-01-05T22%3A00%3A00Z"' in page
    # the link opens the task list with exactly the tasks the figure counts (2 created on Monday)
    listed = client.get("/search?created_between=2026-01-04T22%3A00%3A00Z%2F2026-01-05T22%3A00%3A00Z").text
    assert sorted(re.findall(r'<span class="num">#(\d+)</span>', listed)) == ["1002", "1003"]


def test_filters_from_the_task_list_catalogue_narrow_every_metric(client, login, history):
    login(client, history.admin)
    api = client.get(f"/api/v1/reports/reports.volume?{WEEK}&type=handover").get_json()
    assert sum(r["created"] for r in api["rows"]) == 1
    wrong = client.get(f"/api/v1/reports/reports.volume?{WEEK}&colour=blue")
    assert wrong.status_code == 422 and "colour" in wrong.get_json()["error"]["fields"]
    bad_day = client.get("/api/v1/reports/reports.volume?from=2026-13-01")
    assert bad_day.status_code == 422 and "from" in bad_day.get_json()["error"]["fields"]
    backwards = client.get("/api/v1/reports/reports.volume?from=2026-02-01&to=2026-01-01")
    assert backwards.status_code == 422 and "to" in backwards.get_json()["error"]["fields"]
    assert client.get("/api/v1/reports/reports.nothing").status_code == 404
    for hostile in ("from=0001-01-01&to=0001-01-05", "from=9999-12-30&to=9999-12-31", "department=99999999999",
                    "person=%C2%B2", "from=2026-01-01%00", "department=0"):
        answer = client.get(f"/api/v1/reports/reports.response_times?{hostile}")
        assert answer.status_code == 422, hostile
        assert client.get(f"/reports?{hostile}").status_code == 422, hostile


def test_csv_export_has_a_bom_and_escapes_formulas(client, login, history):
    from workdesk import User
    User.update(name="=HYPERLINK(\"http://evil\")").where(User.id == history.agent_a.id).execute()
    login(client, history.admin)
    response = client.get(f"/reports/reports.workload.csv?{WEEK}")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[0] == ["Person", "Open tasks", "Weighted by priority", "Overdue"]
    assert ["'=HYPERLINK(\"http://evil\")", "2", "5", "1"] in rows


def test_the_api_lists_metrics_and_is_in_the_openapi_document(client, login, history, api_client):
    login(client, history.admin)
    keys = [m["key"] for m in client.get("/api/v1/reports").get_json()["items"]]
    assert keys[:3] == ["reports.volume", "reports.response_times", "reports.rates"]
    spec = client.get("/api/v1/openapi.json").get_json()
    assert "/api/v1/reports" in spec["paths"] and "/api/v1/reports/{metric_key}" in spec["paths"]
    names = {p["name"] for p in spec["paths"]["/api/v1/reports/{metric_key}"]["get"]["parameters"]
             if p.get("in") == "query"}
    assert {"from", "to", "department", "person", "type", "priority"} <= names
    requester = api_client(user=history.reporter)
    refused = requester.get("/api/v1/reports")
    assert refused.status_code == 403 and refused.json["error"]["code"] == "forbidden"


def test_the_week_by_week_trend_and_the_resolutions_link_to_the_tasks_they_count(client, login, history):
    login(client, history.admin)
    api = client.get(f"/api/v1/reports/reports.workload_trend?{WEEK}").get_json()
    week = "2026-01-04T22%3A00%3A00Z%2F2026-01-11T22%3A00%3A00Z"
    assert api["links"] == [f"/search?assigned_between={week}"]
    # assigned in the week: T1 and T2 when created, T3 later (T1 again, to Boris); T0 was assigned before it
    listed = client.get(api["links"][0]).text
    assert sorted(re.findall(r'<span class="num">#(\d+)</span>', listed)) == ["1002", "1003", "1004"]
    assert f'href="/search?assigned_between={week}"' in client.get(f"/reports?{WEEK}").text
    resolved = client.get(f"/search?resolved_between={week}").text  # T1, and T2 (twice)
    assert sorted(re.findall(r'<span class="num">#(\d+)</span>', resolved)) == ["1002", "1003"]
