"""Plugins for the tests of the task-filing hooks: extra inputs, field checks and filing panels."""
from __future__ import annotations

from marshmallow import fields
from markupsafe import Markup

from workdesk import Plugin, hookimpl


class CostCentrePlugin(Plugin):
    """Cost centres

    Takes a ``cost_centre`` input when a task is filed, keeps it in the task's fields, and checks it.
    """
    name = "costcentre"

    @hookimpl
    def register_task_inputs(self):
        return [("cost_centre", fields.String()), ("title", fields.String()), ("Bad Name", fields.String()),
                "not a pair"]

    @hookimpl
    def adjust_task_change(self, task, changes):
        if task is None and changes.get("cost_centre"):
            return {"fields": {**(changes.get("fields") or {}), "cost_centre": changes["cost_centre"]}}
        return None

    @hookimpl
    def validate_task_change(self, changes):
        centre = (changes.get("fields") or {}).get("cost_centre")
        if centre is not None and not str(centre).startswith("CC-"):
            return {"fields.cost_centre": ["A cost centre starts with CC-."]}
        return None

    @hookimpl
    def task_filing_panels(self, user, form):
        return Markup(f'<p class="cost-centre-hint" data-form="{form}">Cost centres: CC-1, CC-2</p>')
