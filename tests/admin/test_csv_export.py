"""The admin panel's CSV exports go through the core's one writer (issue 11, item 3): every cell is
formula-escaped after being turned into text, related objects (the audit trail's actor, a task's
department) included."""
from __future__ import annotations

import csv
import io

EVIL = '=HYPERLINK("http://x","y")'


def _rows(response) -> list[list[str]]:
    assert response.status_code == 200 and response.mimetype == "text/csv"
    raw = response.get_data()
    assert raw.startswith("\ufeff".encode())  # UTF-8 with a byte order mark, like every export
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))


def _column(rows: list[list[str]], title: str) -> list[str]:
    index = rows[0].index(title)
    return [row[index] for row in rows[1:]]


def test_a_formula_in_a_name_is_escaped_in_every_admin_export(client, admin, make_user, make_department, make_task):
    department = make_department(EVIL)
    person = make_user("agent", [department], name=EVIL, email="evil@example.com")
    make_task(person, department, title="-2+3", assignee_id=person.id)

    tasks = _rows(client.get("/admin/tasks/export/csv/"))
    assert _column(tasks, "Department") == ["'" + EVIL]
    assert _column(tasks, "Assignee") == ["'" + EVIL]
    assert _column(tasks, "Title") == ["'-2+3"]

    audit = _rows(client.get("/admin/audit/export/csv/"))
    actors = _column(audit, "Actor")
    assert actors and all(actor == f"'{EVIL} <evil@example.com>" for actor in actors)

    users = _rows(client.get("/admin/users/export/csv/"))
    assert "'" + EVIL in _column(users, "Name")
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in tasks + audit + users for cell in row)


def test_a_plugins_model_view_exports_through_the_same_writer(client, admin, enable_plugin, make_user, make_department):
    enable_plugin("sample", greeting="hi")
    make_department(EVIL, head_id=make_user("manager", name="@boss", email="boss@example.com").id)
    rows = _rows(client.get("/admin/sample/departments/export/csv/"))
    assert rows[0] == ["Name", "Head"]
    assert rows[1:] == [["'" + EVIL, "'@boss <boss@example.com>"]]
    assert client.get("/admin/sample/departments/export/xls/").status_code == 302  # only CSV is offered
