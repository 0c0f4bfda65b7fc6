"""A database that goes away (a PostgreSQL restart, a locked SQLite file) is answered 503 with Retry-After,
in the API's error format or as a page, never as a stack trace; the next request reconnects."""
from __future__ import annotations

import pytest

from workdesk.auth import issue_token


@pytest.mark.parametrize("workdesk_database", ["postgresql"], indirect=True)
def test_a_dropped_connection_answers_503_then_reconnects(workdesk_app, client, make_department, make_user,
                                                          postgres_url):
    import psycopg
    from workdesk.db import db
    user = make_user("agent", departments=[make_department()])
    headers = {"Authorization": f"Bearer {issue_token(user)}"}
    assert client.get("/api/v1/tasks", headers=headers).status_code == 200
    backend = db.execute_sql("SELECT pg_backend_pid()").fetchone()[0]
    with psycopg.connect(postgres_url.split("?")[0], autocommit=True) as admin:  # as a server restart would
        admin.execute("SELECT pg_terminate_backend(%s)", (backend,))

    response = client.get("/api/v1/tasks", headers=headers)
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    error = response.get_json()["error"]
    assert error["code"] == "unavailable" and "database" in error["message"] and error["fields"] == {}

    again = client.get("/api/v1/tasks", headers=headers)
    assert again.status_code == 200, again.get_json()


def test_a_locked_sqlite_database_answers_503_and_a_bug_stays_a_500(workdesk_app, client, monkeypatch):
    import peewee
    from workdesk import auth

    def locked(*args, **kwargs):
        raise peewee.OperationalError("database is locked")

    monkeypatch.setattr(auth, "user_for_token", locked)
    page = client.get("/api/v1/tasks", headers={"Authorization": "Bearer x", "Accept": "text/html"})
    assert page.status_code == 503 and page.headers["Retry-After"] == "5"
    assert "Traceback" not in page.text and "database" in page.text

    def broken(*args, **kwargs):
        raise peewee.OperationalError("no such column: task.colour")

    monkeypatch.setattr(auth, "user_for_token", broken)
    bug = client.get("/api/v1/tasks", headers={"Authorization": "Bearer x"})
    assert bug.status_code == 500 and bug.get_json()["error"]["code"] == "internal_error"
