"""The admin panel's lists of a plugin's records, saved through the plugin's services.

A plugin's admin view of its own table (recurring rules, review policies, rotations, dispatch rules,
SLA policies) creates, changes and deletes through the same service functions as its API, so the panel
checks the same permissions and rules and leaves the same audit trail. A refusal is shown beside the
form's fields (:func:`workdesk.show_service_error`), or flashed when a delete is refused.
"""
from __future__ import annotations

from typing import Any, Mapping

from flask import flash
from flask_admin.contrib.peewee import ModelView

from .auth import current_user
from .errors import WorkdeskError
from .web.forms import show_service_error


class ServiceModelView(ModelView):
    """A Flask-Admin model view whose saves and deletes go through a plugin's services.

    A subclass defines what it supports, each taking the acting person first:

    - ``record_values(form) -> dict``: the service's input, read from the submitted form;
    - ``create_record(actor, values)``: returns the new record;
    - ``update_record(actor, record_id, values)``;
    - ``delete_record(actor, record_id)``.

    :attr:`field_names` maps a service's field name to the form field showing its message when they are
    spelled differently (``{"targets": "targets_json"}``).
    """
    field_names: Mapping[str, str] = {}

    def show_service_error(self, exc: WorkdeskError, form: Any) -> None:
        show_service_error(exc, form, self.field_names)

    def create_model(self, form):
        try:
            return self.create_record(current_user(), self.record_values(form))
        except WorkdeskError as exc:
            self.show_service_error(exc, form)
            return False

    def update_model(self, form, model):
        try:
            self.update_record(current_user(), model.id, self.record_values(form))
        except WorkdeskError as exc:
            self.show_service_error(exc, form)
            return False
        return True

    def delete_model(self, model):
        try:
            self.delete_record(current_user(), model.id)
        except WorkdeskError as exc:
            flash(exc.message, "error")
            return False
        return True


__all__ = ["ServiceModelView"]
