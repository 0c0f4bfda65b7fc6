"""The admin panel's lists of a plugin's records, saved through the plugin's services.

A plugin's admin view of its own table (recurring rules, review policies, rotations, dispatch rules,
SLA policies) creates, changes and deletes through the same service functions as its API, so the panel
checks the same permissions and rules and leaves the same audit trail. A refusal is shown beside the
form's fields (:func:`workdesk.show_service_error`), or flashed when a delete is refused.
"""
from __future__ import annotations

from typing import Any, Mapping

from flask import abort, flash, request
from flask_admin.contrib.peewee import ModelView

from .auth import current_user
from .errors import WorkdeskError
from .web.forms import show_service_error


class PermissionRequired:
    """An admin view (a mixin before Flask-Admin's view class) shown only to active people holding
    :attr:`permission`: someone signed in without it gets a 403, someone signed out a 404.

    The admin panel admits admins only; a plugin's views also state the permission its services check,
    so a role that loses it loses the views too.
    """
    permission: str = ""

    def is_accessible(self) -> bool:
        user = current_user()
        return user is not None and user.is_active and bool(self.permission) and user.has_permission(self.permission)

    def inaccessible_callback(self, name, **kwargs):
        abort(403 if current_user() is not None else 404)


class ServiceModelView(ModelView):
    """A Flask-Admin model view whose saves and deletes go through a plugin's services.

    A subclass sets :attr:`record_form` and defines what it supports, the services taking the acting
    person first:

    - ``record_values(form) -> dict``: the service's input, read from the submitted form;
    - ``create_record(actor, values)``: returns the new record;
    - ``update_record(actor, record_id, values)``;
    - ``delete_record(actor, record_id)``;
    - ``with_choices(form)``: fills the choices that come from the database (departments, people) on
      every form shown;
    - ``prefill(form, record)``: shows a stored record in the edit form where its fields differ from the
      form's (lists typed as text, say).

    :attr:`field_names` maps a service's field name to the form field showing its message when they are
    spelled differently (``{"targets": "targets_json"}``).
    """
    record_form: type | None = None  # the form creating and editing a record (else Flask-Admin's scaffold)
    field_names: Mapping[str, str] = {}

    def get_create_form(self):
        return self.record_form or super().get_create_form()

    def get_edit_form(self):
        return self.record_form or super().get_edit_form()

    def with_choices(self, form):
        return form

    def create_form(self, obj=None):
        return self.with_choices(super().create_form(obj))

    def edit_form(self, obj=None):
        return self.with_choices(super().edit_form(obj))

    def prefill(self, form, record) -> None:
        pass

    def on_form_prefill(self, form, id):
        if request.method != "GET":  # keep what was typed when a save failed
            return
        self.prefill(form, self.model.get_by_id(id))

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
