"""Plugin migrations run: a first-party plugin's and a third-party plugin's second migration is applied
once to a database left at their first, recorded, and shown; on SQLite and PostgreSQL."""
from __future__ import annotations

import datetime as dt

import pytest
from peewee import CharField, DateField, IntegerField

from workdesk import BaseModel, UTCDateTimeField, db
from workdesk.migrate import current_version
from workdesk.models import SchemaVersion
from workdesk.registry import PluginError, get_registry, set_plugin_enabled
from workdesk.schema import schema_status, upgrade_plugin

UTC = dt.timezone.utc


# The tables as the first migration of each plugin left them (the models have moved on since).
class OccurrenceV1(BaseModel):
    rule_id = IntegerField()
    occurrence_at = UTCDateTimeField()
    effective_at = UTCDateTimeField()
    member_id = IntegerField(default=0)
    task_id = IntegerField(unique=True)
    created_at = UTCDateTimeField()

    class Meta:
        table_name = "recurring_occurrence"


class GreetingV1(BaseModel):
    task_id = IntegerField(unique=True)
    text = CharField(max_length=200)
    created_at = UTCDateTimeField()

    class Meta:
        table_name = "hello_greeting"


class DailyCountV1(BaseModel):
    day = DateField(unique=True)
    open_tasks = IntegerField()

    class Meta:
        table_name = "hello_daily_count"


def at_version_1(owner: str, models: list) -> None:
    db.obj.drop_tables(models, safe=True)
    db.obj.create_tables(models)
    SchemaVersion.delete().where(SchemaVersion.owner == owner).execute()
    SchemaVersion.create(owner=owner, version=1, updated_at=dt.datetime.now(UTC))


def columns(table: str) -> dict[str, bool]:
    """column name -> nullable"""
    return {c.name: c.null for c in db.obj.get_columns(table)}


@pytest.mark.parametrize("workdesk_database", ["sqlite", "postgresql"], indirect=True)
def test_recurrings_second_migration_is_applied_once_and_recorded(workdesk_app):
    plugin = get_registry().get("recurring")
    assert plugin.migrations_package() == "workdesk.plugins.recurring.migrations"
    at_version_1("recurring", [OccurrenceV1])
    now = dt.datetime(2026, 1, 5, 7, tzinfo=UTC)
    OccurrenceV1.create(rule_id=1, occurrence_at=now, effective_at=now, task_id=41, created_at=now)
    assert "task_deleted_at" not in columns("recurring_occurrence")
    assert columns("recurring_occurrence")["task_id"] is False
    assert schema_status(plugin) == (1, 2)

    assert upgrade_plugin(plugin) == (1, 2)
    assert current_version("recurring") == 2 and schema_status(plugin) == (2, 2)
    assert columns("recurring_occurrence")["task_id"] is True and "task_deleted_at" in columns("recurring_occurrence")
    from workdesk.plugins.recurring.models import Occurrence
    kept = Occurrence.get(Occurrence.task_id == 41)
    assert kept.rule_id == 1 and kept.task_deleted_at is None
    Occurrence.create(rule_id=1, occurrence_at=now + dt.timedelta(days=7), effective_at=now, task_id=None)
    assert upgrade_plugin(plugin) == (2, 2)  # applied once
    assert Occurrence.select().count() == 2


@pytest.mark.parametrize("workdesk_database", ["sqlite", "postgresql"], indirect=True)
def test_the_example_plugins_second_migration_is_applied_once_and_recorded(workdesk_app):
    plugin = get_registry().get("hello")
    assert plugin.migrations_package() == "workdesk_hello.migrations"
    at_version_1("hello", [GreetingV1, DailyCountV1])
    GreetingV1.create(task_id=7, text="Hi", created_at=dt.datetime.now(UTC))
    set_plugin_enabled("hello", True)  # enabling applies what is pending
    assert schema_status(plugin) == (2, 2)
    from workdesk_hello.models import Greeting
    assert Greeting.get(Greeting.task_id == 7).language == "en"
    assert upgrade_plugin(plugin) == (2, 2)


def test_a_fresh_install_runs_every_migration_in_order(workdesk_app):
    # workdesk_app upgraded every plugin: 0001 made the current tables, 0002 found nothing left to add.
    assert schema_status(get_registry().get("recurring")) == (2, 2)
    assert schema_status(get_registry().get("hello")) == (2, 2)


def test_a_plugin_with_tables_but_no_migrations_cannot_be_enabled(workdesk_app, monkeypatch):
    plugin = get_registry().get("hello")
    monkeypatch.setattr(type(plugin), "migrations", "workdesk_hello.no_such_migrations")
    with pytest.raises(PluginError, match=r"owns tables \(hello_greeting, hello_daily_count\) but has no migrations"):
        set_plugin_enabled("hello", True)
    assert not get_registry().is_enabled("hello")


def test_plugins_list_shows_the_applied_and_latest_version(cli_instance):
    listing = cli_instance("plugins", "list").stdout
    assert any(line.startswith("recurring") and "schema 2/2" in line for line in listing.splitlines())
    assert any(line.startswith("hello") and "schema 2/2" in line for line in listing.splitlines())
