"""The pages' forms. Every one is a Flask-WTF form, so every one carries and checks a CSRF token."""
from __future__ import annotations

from typing import Mapping

from flask import flash
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (BooleanField, DateTimeLocalField, EmailField, HiddenField, PasswordField, SelectField, StringField,
                     TextAreaField)
from wtforms.validators import DataRequired, EqualTo, InputRequired, Length, Optional

from ..dates import preset_choices
from ..extensions import LANGUAGES
from ..labels import priority_choices
from ..errors import WorkdeskError
from ..schemas import renderable_zones, text_problem

# Each language under its own name, so a person who cannot read the current one still finds theirs.
LANGUAGE_NAMES = {"en": "English", "de": "Deutsch", "fr": "Français", "es": "Español", "bg": "Български",
                  "ru": "Русский", "vi": "Tiếng Việt", "zh_Hans": "中文（简体）"}
DATETIME_LOCAL_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]


# text_problem's reasons, in the reader's language.
_TEXT_PROBLEMS = {"Must not contain NUL characters.": _l("Must not contain NUL characters."),
                  "Must be valid Unicode text.": _l("Must be valid Unicode text.")}


class WorkdeskForm(FlaskForm):
    """The base of every form of the pages, the admin panel and the plugins: Flask-WTF's CSRF token, and in
    every field only text the database can store (no NUL character, which PostgreSQL refuses), so such
    input is an error next to its field on either database instead of a failed write."""

    def validate(self, extra_validators=None) -> bool:
        valid = super().validate(extra_validators)
        for field in self:
            values = field.data if isinstance(field.data, (list, tuple)) else [field.data]
            problem = next((text_problem(v) for v in values if isinstance(v, str) and text_problem(v)), None)
            if problem:
                field.errors = [*field.errors, str(_TEXT_PROBLEMS[problem])]  # Flask-Admin joins them as str
                valid = False
        return valid


def show_service_error(exc: WorkdeskError, form: FlaskForm | None = None,
                       field_names: Mapping[str, str] | None = None) -> None:
    """Show a service's refusal on a form page: each field message beside its field (the service's name,
    else ``field_names[name]``, else the last part of a dotted name), the rest with the message as one
    flash. The unplaced messages say what they are about; the service's keys would not help a person."""
    unplaced = []
    for name, messages in (exc.fields or {}).items():
        field = None
        if form is not None:
            for candidate in (name, (field_names or {}).get(name), name.rpartition(".")[2]):
                field = getattr(form, candidate, None) if candidate else None
                if field is not None and hasattr(field, "errors"):
                    break
        if field is not None and hasattr(field, "errors"):
            field.errors = [*list(field.errors or []), *messages]
        else:
            unplaced.extend(messages)
    flash(" ".join([exc.message, *unplaced]), "error")


def timezone_choices() -> list[tuple[str, str]]:
    """The IANA zones to choose from, labelled with spaces for underscores ("America/New York", as people
    type it). A stored zone that is not among them ("Factory", one the zone database dropped) is shown
    and used as UTC (``User.zone``), so the form offers UTC for it."""
    return [(zone, zone.replace("_", " ")) for zone in sorted(renderable_zones())]


class LoginForm(WorkdeskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1024)])


class QuickCreateForm(WorkdeskForm):
    title = StringField(_l("New task"), validators=[DataRequired(), Length(max=200)])


# Under every box whose text is Markdown (descriptions and comments).
MARKDOWN_HINT = _l("Markdown: **bold**, *italic*, `code`, lists, links; @name mentions someone.")


class TaskForm(WorkdeskForm):
    """The expanded create form; the edit form on the task page is its subset. Files come in
    ``request.files`` as ``files``, several at once."""
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(_l("Description"), description=MARKDOWN_HINT,
                                validators=[Optional(), Length(max=20000)])
    department_id = SelectField(_l("Department"), coerce=int)
    priority = SelectField(_l("Priority"), default="normal")
    # The choices are a convenience; who may be assigned is the service's decision.
    assignee_id = SelectField(_l("Assignee"), coerce=str, default="", validate_choice=False)
    due_at = DateTimeLocalField(_l("Due"), format=DATETIME_LOCAL_FORMATS, validators=[Optional()])
    due_preset = SelectField(_l("Or due"), default="", description=_l("At the end of that working day."))
    watchers = StringField(_l("Watchers"), description=_l("Email addresses, separated by commas."),
                           validators=[Optional(), Length(max=2000)])
    parent = StringField(_l("Parent task"), description=_l("Its number, e.g. 12."),
                         validators=[Optional(), Length(max=20)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.priority.choices = priority_choices()
        self.due_preset.choices = preset_choices()


class EditTaskForm(WorkdeskForm):
    version = HiddenField()
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    description = TextAreaField(_l("Description"), description=MARKDOWN_HINT,
                                validators=[Optional(), Length(max=20000)])
    priority = SelectField(_l("Priority"))
    due_at = DateTimeLocalField(_l("Due"), format=DATETIME_LOCAL_FORMATS, validators=[Optional()])
    due_preset = SelectField(_l("Or due"), default="", description=_l("At the end of that working day."))
    parent = StringField(_l("Parent task"), description=_l("Its number, e.g. 12; empty for none."),
                         validators=[Optional(), Length(max=20)])

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.priority.choices = priority_choices()
        self.due_preset.choices = preset_choices()


class TransitionForm(WorkdeskForm):
    """One form, one submit button per allowed status (the pressed button's value is sent)."""
    version = HiddenField()
    status = StringField(validators=[DataRequired()])


class AssignForm(WorkdeskForm):
    version = HiddenField()
    assignee_id = SelectField(_l("Assignee"), coerce=str, validate_choice=False)


class TakeForm(WorkdeskForm):
    """"Take it": assign the task to oneself. Carries nothing but the CSRF token and the version seen."""
    version = HiddenField()


class WatchForm(WorkdeskForm):
    watching = HiddenField(validators=[InputRequired()])


class ConfirmForm(WorkdeskForm):
    """The reporter confirms a resolved task is done."""
    version = HiddenField()


class ReopenForm(WorkdeskForm):
    """The reporter reopens a resolved or closed task, saying why."""
    version = HiddenField()
    reason = TextAreaField(_l("What is still wrong?"), validators=[DataRequired(), Length(max=2000)])


class BoardMoveForm(WorkdeskForm):
    """One card of the board: a button per status it may move to (the pressed button's value is sent)."""
    version = HiddenField()
    status = StringField(validators=[DataRequired()])


class BulkEditForm(WorkdeskForm):
    """Changes for the ticked tasks of a list; an empty choice leaves that field as it is. The tasks come
    as ``task_ids`` checkboxes of the list itself."""
    assignee_id = SelectField(_l("Assignee"), coerce=str, default="", validate_choice=False)
    status = SelectField(_l("Status"), default="", validate_choice=False)
    priority = SelectField(_l("Priority"), default="", validate_choice=False)
    due_preset = SelectField(_l("Due"), default="")
    due_at = DateTimeLocalField(_l("Due on"), format=DATETIME_LOCAL_FORMATS, validators=[Optional()])
    clear_due = BooleanField(_l("Remove the due date"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.due_preset.choices = [("", _l("No change"))] + preset_choices()[1:]


class CommentForm(WorkdeskForm):
    # Empty is fine when files come with it: the service decides (a comment needs text or files).
    body = TextAreaField(_l("Comment"), description=MARKDOWN_HINT, validators=[Optional(), Length(max=20000)])
    internal = BooleanField(_l("Internal note (not shown to requesters)"))


class CommentEditForm(WorkdeskForm):
    body = TextAreaField(_l("Comment"), validators=[DataRequired(), Length(max=20000)])


class AttachmentForm(WorkdeskForm):
    """Files for a task: the files come in ``request.files`` as ``files``, several at once."""


class PreferencesForm(WorkdeskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    timezone = SelectField(_l("Time zone"))
    locale = SelectField(_l("Language"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.timezone.choices = timezone_choices()
        self.locale.choices = [(code, LANGUAGE_NAMES.get(code, code)) for code in LANGUAGES]


class PasswordForm(WorkdeskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired(), Length(max=1024)])
    new_password = PasswordField(_l("New password"), validators=[DataRequired(), Length(max=1024)])
    confirm = PasswordField(_l("New password again"),
                            validators=[DataRequired(), EqualTo("new_password", message=_l("The passwords differ."))])


class AbsenceForm(WorkdeskForm):
    """An out-of-office period, in the person's own time zone."""
    # Offered to department heads: whose absence it is (empty: one's own).
    user_id = SelectField(_l("Who is away"), coerce=str, default="", validate_choice=False,
                          description=_l("As the head of a department, you record your team's absences too."))
    starts_at = DateTimeLocalField(_l("Away from"), format=DATETIME_LOCAL_FORMATS, validators=[InputRequired()])
    ends_at = DateTimeLocalField(_l("Back on"), format=DATETIME_LOCAL_FORMATS, validators=[InputRequired()])
    delegate_id = SelectField(_l("Who stands in"), coerce=str, default="", validate_choice=False)
    note = StringField(_l("Note"), validators=[Optional(), Length(max=500)])


class DeleteForm(WorkdeskForm):
    """A button that deletes something: carries nothing but the CSRF token."""


class SavedViewForm(WorkdeskForm):
    """Save the filters and sort on screen as a view (``params`` carries them as a query string)."""
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=100)])
    share = SelectField(_l("Who sees it"), coerce=str, default="", validate_choice=False)
    params = HiddenField()


__all__ = ["WorkdeskForm", "LoginForm", "QuickCreateForm", "TaskForm", "EditTaskForm", "TransitionForm", "AssignForm", "TakeForm",
           "WatchForm", "ConfirmForm", "ReopenForm", "BoardMoveForm", "BulkEditForm", "CommentForm", "CommentEditForm",
           "AttachmentForm", "PreferencesForm", "PasswordForm",
           "AbsenceForm", "DeleteForm", "SavedViewForm", "LANGUAGE_NAMES", "timezone_choices"]
