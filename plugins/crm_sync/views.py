"""The customer panel of the task page."""
from __future__ import annotations

from flask import render_template
from flask_babel import gettext as _
from markupsafe import Markup

from workdesk import Task, User

from .links import customer_tasks, last_contacts
from .models import TaskCustomer


def panel(task: Task, user: User) -> list | None:
    """The task's customer and contact, their other tasks and the last contacts (people with ``crm.view``)."""
    if not user.has_permission("crm.view"):
        return None
    row = TaskCustomer.get_or_none(TaskCustomer.task_id == task.id)
    if row is None or (row.customer is None and row.contact is None):
        return None
    main = row.contact or row.customer
    others = [t for t in customer_tasks(user, row.customer or main, limit=6) if t.id != task.id][:5]
    contacts = last_contacts(main, [t.id for t in others] + [task.id], limit=5)
    html = render_template("crm_sync/panel.html", row=row, others=others, contacts=contacts)
    return [(_("Customer"), Markup(html))]
