"""The forms of the discussion pages (``WorkdeskForm``: each carries and checks the CSRF token)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, IntegerField, MultipleFileField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from workdesk import WorkdeskForm

MARKDOWN_HINT = _l("Markdown; mention people as @email or @Full Name.")


class ThreadForm(WorkdeskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    body = TextAreaField(_l("Message"), validators=[DataRequired(), Length(max=50000)], description=MARKDOWN_HINT)
    files = MultipleFileField(_l("Files"))


class PostForm(WorkdeskForm):
    body = TextAreaField(_l("Reply"), validators=[DataRequired(), Length(max=50000)], description=MARKDOWN_HINT)
    files = MultipleFileField(_l("Files"))


class EditForm(WorkdeskForm):
    body = TextAreaField(_l("Message"), validators=[DataRequired(), Length(max=50000)])


class HideForm(WorkdeskForm):
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=2000)])


class PinForm(WorkdeskForm):
    pinned = BooleanField(_l("Pinned"))


class TaskForm(WorkdeskForm):
    title = StringField(_l("Task title"), validators=[Optional(), Length(max=200)])
    department_id = IntegerField(_l("Department"), validators=[Optional(), NumberRange(min=1, max=2**31 - 1)])
