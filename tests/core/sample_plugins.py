"""Plugins used by the core's tests, loaded through the ``extra_plugins`` setting."""
from __future__ import annotations

import datetime as dt
import json
import os
import time
from pathlib import Path

from marshmallow import Schema, fields, validate
from peewee import CharField, IntegerField, TextField

from workdesk import BaseModel, PeriodicJob, Plugin, hookimpl, write_transaction


class HandledEvent(BaseModel):
    """One row per (plugin, event): the unique key is what makes the recorder idempotent."""
    plugin = CharField(max_length=50)
    event_id = IntegerField()
    kind = CharField(max_length=50)
    detail = TextField(default="")

    class Meta:
        table_name = "recorder_handled_event"
        indexes = ((("plugin", "event_id"), True),)


class RecorderSettings(Schema):
    label = fields.String(load_default="rec", validate=validate.Length(min=1, max=20))
    limit = fields.Integer(load_default=5, validate=validate.Range(min=1, max=10))


def _record(plugin: str, event: dict, kind: str, detail: str = "") -> None:
    with write_transaction():
        HandledEvent.insert(plugin=plugin, event_id=event["id"], kind=kind, detail=detail).on_conflict_ignore().execute()


class RecorderPlugin(Plugin):
    """Recorder

    Writes down every event it receives and runs a job that logs its "now".
    """
    name = "recorder"
    version = "1.2.0"
    settings_schema = RecorderSettings
    migrations = "tests.core.sample_migrations"

    @hookimpl
    def register_models(self):
        return [HandledEvent]

    @hookimpl
    def on_task_created(self, task, event):
        _record(self.name, event, "created", task.title)

    @hookimpl
    def on_task_updated(self, changes, event):
        _record(self.name, event, "updated", json.dumps(sorted(changes)))

    @hookimpl
    def on_task_commented(self, comment, event):
        _record(self.name, event, "commented", comment.body)

    @hookimpl
    def on_task_assigned(self, assignee, event):
        _record(self.name, event, "assigned", str(assignee.id if assignee else None))

    @hookimpl
    def extra_task_data(self, task):
        return {"label": self.settings()["label"], "title_length": len(task.title)}

    @hookimpl
    def register_jobs(self):
        return [PeriodicJob("log_now", log_now, every=dt.timedelta(hours=1))]

    @hookimpl
    def register_permissions(self):
        return [("recorder.read", "Read the recorder's log")]


def log_now(now: dt.datetime, since: dt.datetime | None) -> None:
    path = os.environ.get("RECORDER_JOB_LOG")
    if path:
        with open(path, "a") as fh:
            fh.write(json.dumps({"now": now.isoformat(), "since": since.isoformat() if since else None}) + "\n")
    delay = float(os.environ.get("RECORDER_JOB_SLEEP", "0"))
    if delay and path:
        with open(path, "a") as fh:
            fh.write(json.dumps({"start": time.time(), "pid": os.getpid()}) + "\n")
        time.sleep(delay)
        with open(path, "a") as fh:
            fh.write(json.dumps({"end": time.time(), "pid": os.getpid()}) + "\n")


class RaisingPlugin(Plugin):
    """Raising

    Fails in every event hook and in its task data, to prove isolation.
    """
    name = "raising"

    @hookimpl
    def on_task_created(self, task):
        raise RuntimeError("raising plugin is broken on purpose")

    @hookimpl
    def extra_task_data(self, task):
        raise RuntimeError("no data today")


class IncompatiblePlugin(Plugin):
    """Incompatible

    Written for a future Workdesk.
    """
    name = "future"
    requires_workdesk = ">=2.0"


class VetoPlugin(Plugin):
    """Veto

    Refuses to resolve tasks that have no description.
    """
    name = "veto"

    @hookimpl
    def veto_transition(self, task, new_status):
        if new_status == "resolved" and not task.description:
            return "describe what was done before resolving"
        return None


class ProposerPlugin(Plugin):
    """Dispatch

    Proposes the candidate with the lowest id.
    """
    name = "proposer"

    @hookimpl
    def propose_assignee(self, candidates):
        return candidates[0] if candidates else None


class SlowPlugin(Plugin):
    """Slow

    The first delivery it ever sees hangs (for the test to kill the worker); every other completes.
    """
    name = "slow"
    migrations = "tests.core.sample_migrations"

    @hookimpl
    def register_models(self):
        return [HandledEvent]

    @hookimpl
    def on_task_created(self, task, event):
        marker = Path(os.environ["SLOW_MARKER_DIR"]) / "hung"
        if not marker.exists():
            marker.write_text(f"{os.getpid()} {event['id']}")
            time.sleep(120)
        _record(self.name, event, "created", task.title)
