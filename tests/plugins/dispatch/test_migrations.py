"""Dispatch's numbered migrations bring an older install's tables up to date, on SQLite and PostgreSQL."""
from __future__ import annotations

import importlib

import pytest
from playhouse.migrate import SchemaMigrator, migrate

from workdesk import db, has_column


@pytest.mark.parametrize("workdesk_database", ["sqlite", "postgresql"], indirect=True)
def test_0002_adds_the_weekdays_of_saved_batches_to_an_older_install(team, api_client):
    saved = api_client(user=team["admin"]).post("/api/v1/dispatch/batches", json={
        "name": "Morning", "template": {"title": "Inspect"}, "department_ids": [team["warehouse"].id],
        "daily_at": "07:00"})
    assert saved.status_code == 201, saved.json
    migrator = SchemaMigrator.from_database(db.obj)
    migrate(migrator.drop_column("dispatch_batch", "weekdays"))  # the table as 0001 made it before 0002
    assert not has_column(db.obj, "dispatch_batch", "weekdays")
    upgrade = importlib.import_module("workdesk.plugins.dispatch.migrations.0002_batch_weekdays").upgrade
    upgrade(migrator, db.obj)
    upgrade(migrator, db.obj)  # a second run changes nothing
    assert has_column(db.obj, "dispatch_batch", "weekdays")
    listed = api_client(user=team["admin"]).get("/api/v1/dispatch/batches").json["items"]
    assert [(b["name"], b["weekdays"]) for b in listed] == [("Morning", [])]
