"""Tables owned by the templates plugin; their names start with ``templates_``."""
from __future__ import annotations

from peewee import BooleanField, CharField, ForeignKeyField, IntegerField, JSONField, TextField

from workdesk import BaseModel, Department, User, UTCDateTimeField, utcnow

FIELD_TYPES = ("text", "long_text", "number", "date", "choice", "person", "url")
LEVELS = ("low", "medium", "high")  # impact and urgency, the ITIL way
DUE_UNITS = ("working_days", "working_hours")
ROLES = ("consulted", "informed")  # responsible is the assignee; accountable is one person on TaskState


class FieldDefinition(BaseModel):
    """A typed custom field; its value lives in the task's ``fields`` under ``key``."""
    key = CharField(max_length=40, unique=True)
    label = CharField(max_length=100)
    type = CharField(max_length=16, default="text")
    required = BooleanField(default=False)
    help_text = CharField(max_length=300, default="")
    options = JSONField(default=list)  # choice: the allowed values
    multiple = BooleanField(default=False)  # choice: several values (a list)
    created_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "templates_field"

    def __str__(self) -> str:
        return self.label


class Template(BaseModel):
    """A standard kind of task of a department: what a task filed from it starts with."""
    name = CharField(max_length=100, unique=True)
    department = ForeignKeyField(Department, backref="+", on_delete="CASCADE")
    type = CharField(max_length=64, default="task")
    title_pattern = CharField(max_length=200, default="{title}")
    description = TextField(default="")
    priority = CharField(max_length=16, default="normal")
    impact = CharField(max_length=16, default="")
    urgency = CharField(max_length=16, default="")
    assignee = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    watcher_ids = JSONField(default=list)
    due_offset = IntegerField(null=True)
    due_unit = CharField(max_length=16, default="working_days")
    checklist = JSONField(default=list)  # item texts, in order
    require_checklist = BooleanField(default=False)
    field_keys = JSONField(default=list)  # FieldDefinition keys, in the order the form shows them
    accountable = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    consulted_ids = JSONField(default=list)
    informed_ids = JSONField(default=list)
    active = BooleanField(default=True)
    created_at = UTCDateTimeField(default=utcnow)
    updated_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "templates_template"

    def __str__(self) -> str:
        return self.name


class DepartmentRoles(BaseModel):
    """A department's default RACI roles, for its tasks whose template names none."""
    department = ForeignKeyField(Department, unique=True, backref="+", on_delete="CASCADE")
    accountable = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    consulted_ids = JSONField(default=list)
    informed_ids = JSONField(default=list)

    class Meta:
        table_name = "templates_department_roles"


class MatrixCell(BaseModel):
    """One cell of the impact × urgency matrix: the priority it derives."""
    impact = CharField(max_length=16)
    urgency = CharField(max_length=16)
    priority = CharField(max_length=16)

    class Meta:
        table_name = "templates_matrix_cell"
        indexes = ((("impact", "urgency"), True),)


class TaskState(BaseModel):
    """What the plugin keeps per task: its template, the checklist rule and the accountable person's decision.

    ``task_id`` is a plain column: the row is deleted with the task by ``on_task_deleted``."""
    task_id = IntegerField(unique=True)
    template_id = IntegerField(null=True)
    require_checklist = BooleanField(default=False)
    accountable = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    # The result is accepted for the current resolution when accepted_at >= the task's resolved_at.
    accepted_at = UTCDateTimeField(null=True)
    accepted_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    created_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "templates_task_state"


class ChecklistItem(BaseModel):
    task_id = IntegerField(index=True)
    position = IntegerField()
    text = CharField(max_length=300)
    done = BooleanField(default=False)
    done_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    done_at = UTCDateTimeField(null=True)

    class Meta:
        table_name = "templates_checklist_item"
        indexes = ((("task_id", "position"), False),)


class TaskRole(BaseModel):
    """A consulted or informed person on a task."""
    task_id = IntegerField(index=True)
    user = ForeignKeyField(User, backref="+", on_delete="CASCADE")
    role = CharField(max_length=16)

    class Meta:
        table_name = "templates_task_role"
        indexes = ((("task_id", "user", "role"), True),)


MODELS = [FieldDefinition, Template, DepartmentRoles, MatrixCell, TaskState, ChecklistItem, TaskRole]
