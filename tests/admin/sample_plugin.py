"""A small plugin for the admin panel's tests: settings of every common kind, admin views, a veto."""
from __future__ import annotations

import datetime as dt

from flask_admin import BaseView, expose
from flask_admin.contrib.peewee import ModelView
from marshmallow import Schema, fields, validate

from workdesk import Department, PeriodicJob, Plugin, hookimpl

# Tests append an error message here to make the next run of the sample job fail.
JOB_FAILURES: list[str] = []


class SampleSettings(Schema):
    greeting = fields.String(required=True, validate=validate.Length(min=1, max=40),
                             metadata={"description": "Shown on the sample report."})
    max_items = fields.Integer(load_default=10, validate=validate.Range(min=1, max=100))
    mode = fields.String(load_default="quiet", validate=validate.OneOf(["quiet", "loud"]))
    tags = fields.List(fields.String(validate=validate.Length(max=10)), load_default=list)
    notify = fields.Boolean(load_default=False)


class SampleReportView(BaseView):
    @expose("/")
    def index(self):
        return "<h1>Sample report</h1>"


class SampleDepartmentsView(ModelView):
    """A plugin's plain Flask-Admin model view with an export: the panel routes it through the core's writer."""
    can_create = can_edit = can_delete = False
    can_export = True
    column_list = column_export_list = ("name", "head")


def tidy_up(now: dt.datetime, since: dt.datetime | None) -> None:
    if JOB_FAILURES:
        raise RuntimeError(JOB_FAILURES.pop())


class SamplePlugin(Plugin):
    """Sample plugin

    Used by the admin panel's tests; refuses to start work on tasks titled "[frozen]" and fails to
    handle the creation of tasks titled "[explode]".
    """

    name = "sample"
    version = "2.1.0"
    settings_schema = SampleSettings

    @hookimpl
    def register_admin_views(self):
        return [SampleReportView(name="Report", endpoint="sample_report", url="/admin/sample/report"),
                SampleDepartmentsView(Department, name="Departments", endpoint="sample_departments",
                                      url="/admin/sample/departments")]

    @hookimpl
    def register_permissions(self):
        return [("sample.report", "Read the sample report")]

    @hookimpl
    def veto_transition(self, task, old_status, new_status):
        if "[frozen]" in task.title and new_status == "in_progress":
            return "frozen tasks cannot start"
        return None

    @hookimpl
    def register_jobs(self):
        return [PeriodicJob("tidy_up", tidy_up, every=dt.timedelta(hours=1), description="Tidies up")]

    @hookimpl
    def on_task_created(self, task):
        if "[explode]" in task.title:
            raise RuntimeError(f"cannot handle task {task.number}")
