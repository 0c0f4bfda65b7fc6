"""Task-list filters: by template, by urgency, and by the value of a choice field (``?choice=key:value``)."""
from __future__ import annotations

import json
import re

import marshmallow
import peewee
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from peewee import SQL, NodeList

from workdesk import Department, Task, TaskFilter, Text, User, db, parse_id

from .models import LEVELS, FieldDefinition, Template

CHOICE = re.compile(r"^([a-z][a-z0-9_]{0,39}):(.{1,100})$", re.S)


def _json_value(key: str, value: str | int) -> peewee.Node:
    """Tasks whose ``fields[key]`` is ``value`` or a list holding it, in each database's JSON dialect."""
    param = db.obj.param
    if isinstance(db.obj, peewee.SqliteDatabase):
        # json_each walks a list's items, or yields a scalar itself once.
        return NodeList([SQL("EXISTS (SELECT 1 FROM json_each("), Task.fields,
                         SQL(f", {param}) WHERE json_each.value = {param})", [f'$."{key}"', value])], glue="")
    # jsonb containment: "a" @> "a", and ["a", "b"] @> "a".
    return NodeList([SQL("(CAST("), Task.fields, SQL(f" AS jsonb) -> {param}) @> CAST({param} AS jsonb)",
                                                     [key, json.dumps(value)])], glue="")


def _by_template(query, value, context):
    return query.where(_json_value("template_id", value))


def _by_urgency(query, value, context):
    return query.where(_json_value("urgency", value))


def _by_choice(query, value, context):
    key, option = value
    return query.where(_json_value(key, option))


class TemplateValue(Text):
    """A template id in a query string."""

    def _deserialize(self, value, attr, data, **kwargs):
        template_id = parse_id(super()._deserialize(value, attr, data, **kwargs)[:20])
        if template_id is None:
            raise marshmallow.ValidationError(_("A template id."))
        return template_id


class ChoiceValue(Text):
    """``key:value``: a custom field's key and one of its options."""

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        match = CHOICE.match(text) if len(text) <= 141 else None
        if match is None:
            raise marshmallow.ValidationError(_("Write the field's key, a colon and the value: category:hardware."))
        return match.group(1), match.group(2)


def _template_choices(viewer: User) -> list[tuple[str, str]]:
    """Every template, inactive ones too (their tasks stay), as the list pages offer them."""
    return [(str(t.id), f"{t.name} · {t.department.name}")
            for t in Template.select(Template, Department).join(Department).order_by(Template.name)]


def _choice_choices(viewer: User) -> list[tuple[str, str]]:
    """Each option of each choice field, ``key:option`` labelled "Label: option", so a list page offers a
    select instead of a box where one must know the key."""
    return [(f"{d.key}:{option}", f"{d.label}: {option}")
            for d in FieldDefinition.select().where(FieldDefinition.type == "choice").order_by(FieldDefinition.label)
            for option in d.options]


def task_filters() -> list[TaskFilter]:
    return [
        TaskFilter("template", _l("Template"), _by_template, _template_choices, field=TemplateValue,
                   description=_l("Tasks filed from this template (its id).")),
        TaskFilter("urgency", _l("Urgency"), _by_urgency,
                   choices=[(level, label) for level, label in zip(LEVELS, (_l("Low"), _l("Medium"), _l("High")))]),
        TaskFilter("choice", _l("Custom field"), _by_choice, _choice_choices, field=ChoiceValue,
                   description=_l("A choice field's key and value, e.g. category:hardware.")),
    ]
