"""The forms of the hand-over and duty log pages (Flask-WTF through ``WorkdeskForm``: each carries and
checks the CSRF token)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import IntegerField, TextAreaField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from workdesk import WorkdeskForm


class HandoverForm(WorkdeskForm):
    """The outgoing person's notes and incidents (one incident a line); "submit" completes it."""
    notes = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=20000)])
    incidents = TextAreaField(_l("Incidents"), validators=[Optional(), Length(max=200000)],
                              description=_l("One incident a line."))


class AcknowledgeForm(WorkdeskForm):
    """Only the CSRF token: the incoming person's acknowledgement."""


class LogEntryForm(WorkdeskForm):
    text = TextAreaField(_l("What happened"), validators=[DataRequired(), Length(max=20000)])
    task_number = IntegerField(_l("Task number"), validators=[Optional(), NumberRange(min=1, max=2**31 - 1)],
                               description=_l("Optional: the task this entry is about."))
