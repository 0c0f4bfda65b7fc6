"""Migration 0005 adds a rotation's ``advance``: the rotations made before it keep the calendar advance
their rosters, feeds and hand-overs were published with; new ones pass the turn at window hand-offs.
On SQLite and PostgreSQL."""
from __future__ import annotations

import datetime as dt

import pytest
from peewee import CharField, DateField, ForeignKeyField, IntegerField, JSONField

from workdesk import BaseModel, Department, UTCDateTimeField, db
from workdesk.migrate import current_version
from workdesk.models import SchemaVersion
from workdesk.registry import get_registry
from workdesk.schema import upgrade_plugin

pytestmark = pytest.mark.parametrize("workdesk_database", ["sqlite", "postgresql"], indirect=True)
UTC = dt.timezone.utc


class RotationV4(BaseModel):
    """The rotation table as migrations 0001-0004 left it."""
    department = ForeignKeyField(Department, backref="+", on_delete="CASCADE")
    name = CharField(max_length=100)
    layer = IntegerField(default=0)
    member_ids = JSONField(default=list)
    shift_length = IntegerField(default=1)
    shift_unit = CharField(max_length=8, default="weeks")
    handoff_time = CharField(max_length=5, default="09:00")
    handoff_weekday = IntegerField(null=True)
    timezone = CharField(max_length=64, default="UTC")
    start_date = DateField()
    restrictions = JSONField(default=list)
    created_by = IntegerField(null=True, column_name="created_by_id")
    created_at = UTCDateTimeField()
    updated_at = UTCDateTimeField()

    class Meta:
        table_name = "duty_roster_rotation"


def test_rotations_made_before_keep_the_calendar_advance(team, duty):
    from workdesk.plugins.duty_roster.models import MODELS, Rotation
    plugin = get_registry().get("duty_roster")
    db.obj.drop_tables(MODELS, safe=True)
    db.obj.create_tables([RotationV4])
    SchemaVersion.update(version=4).where(SchemaVersion.owner == "duty_roster").execute()
    now = dt.datetime(2026, 3, 1, tzinfo=UTC)
    agents = [a.id for a in team["agents"]]
    old = RotationV4.create(department=team["department"], name="Office", member_ids=agents, shift_unit="days",
                            timezone="Europe/Sofia", start_date=dt.date(2026, 3, 2), created_at=now, updated_at=now,
                            restrictions=[{"weekdays": [1, 2, 3, 4, 5], "start": "09:00", "end": "18:00"}])

    assert upgrade_plugin(plugin) == (4, 5) and current_version("duty_roster") == 5
    assert Rotation.get_by_id(old.id).advance == "calendar"
    db.obj.create_tables(MODELS, safe=True)  # the other tables 0001 made, which this test dropped
    # Its roster is the one it had: Monday 9 March is day 7 since 2 March, agents[7 % 3].
    monday = duty.people_on_duty(team["department"].id, dt.datetime(2026, 3, 9, 7, tzinfo=UTC))
    assert [u.id for u in monday] == [agents[7 % 3]]
    new = duty.create_rotation(team["admin"], {"department_id": team["department"].id, "name": "New",
                                               "member_ids": agents, "start_date": "2026-03-02"})
    assert new.advance == "windows"
    assert upgrade_plugin(plugin) == (5, 5)  # applied once
