"""The customer panel of the task page, and its link and unlink forms."""
from __future__ import annotations

import re

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from wtforms import StringField
from wtforms.validators import DataRequired, Length

from workdesk import NotFound, Task, User, WorkdeskError, WorkdeskForm, current_user, login_required, parse_id

from . import links
from .models import Customer, TaskCustomer

pages = Blueprint("crm_sync_pages", __name__, url_prefix="/crm")
PHONE = re.compile(r"\+?[\d\s().\-]{5,40}")


class LinkForm(WorkdeskForm):
    who = StringField(_l("Customer: an email, a name or a customer number"),
                      validators=[DataRequired(), Length(max=254)])


def panel(task: Task, user: User) -> list | None:
    """The task's customer and contact, their other tasks and the last contacts (people with ``crm.view``);
    the link form for people with ``crm.manage``."""
    if not user.has_permission("crm.view"):
        return None
    row = TaskCustomer.get_or_none(TaskCustomer.task_id == task.id)
    can_manage = user.has_permission("crm.manage")
    if (row is None or (row.customer is None and row.contact is None)) and not can_manage:
        return None
    history = links.task_history(user, task, limit=5) or {"tasks": [], "last_contacts": []}
    others, contacts = history["tasks"], history["last_contacts"]
    html = render_template("crm_sync/panel.html", task=task, row=row, others=others, contacts=contacts,
                           form=LinkForm() if can_manage else None)
    return [(_("Customer"), Markup(html))]


def _find(user: User, who: str) -> Customer | None:
    """The one customer ``who`` names: its number, an email, or a name or phone only one customer has. An
    email or phone nobody here has is looked up in the CRM (for people who may link)."""
    who = who.strip()
    if who.isascii() and who.isdigit():  # "²" is a digit to Python, not a number
        number = parse_id(who)
        return Customer.get_or_none(Customer.id == number) if number is not None else None
    found = list(links.list_customers(user, who).order_by(Customer.kind.desc(), Customer.id).limit(2))
    if not found and user.has_permission("crm.manage") and ("@" in who or PHONE.fullmatch(who)):
        # not pulled yet: the CRM is asked (the connector's lookup by email or phone)
        found = (links.look_up_in_crm(email=who) if "@" in who else links.look_up_in_crm(phone=who))[:2]
    if "@" in who:
        exact = [c for c in found if who.lower() in (e.lower() for e in c.emails)]
        return exact[0] if exact else None
    return found[0] if len(found) == 1 else None


def _back(task_id: int):
    return redirect(url_for("web.task_page", task_id=task_id) + "#crm-customer")


@pages.post("/tasks/<int:task_id>/customer")
@login_required
def link(task_id: int):
    user = current_user()
    form = LinkForm()
    if not form.validate_on_submit():
        flash(_("Type an email, a name or a customer number."), "error")
        return _back(task_id)
    try:
        found = _find(user, form.who.data)
        if found is None:
            flash(_("No single customer matches “%(who)s”.", who=form.who.data), "error")
            return _back(task_id)
        is_contact = found.kind == "contact"
        links.link_task(user, task_id, None if is_contact else found.id, found.id if is_contact else None)
    except NotFound:
        raise
    except WorkdeskError as exc:
        flash(exc.message, "error")
        return _back(task_id)
    flash(_("The task is linked to %(name)s.", name=found.name))
    return _back(task_id)


@pages.post("/tasks/<int:task_id>/customer/remove")
@login_required
def unlink(task_id: int):
    if not WorkdeskForm().validate_on_submit():
        flash(_("The form expired or did not come from this site. Reload the page and try again."), "error")
        return _back(task_id)
    try:
        links.unlink_task(current_user(), task_id)
    except NotFound:
        raise
    except WorkdeskError as exc:
        flash(exc.message, "error")
        return _back(task_id)
    flash(_("The task has no customer any more."))
    return _back(task_id)
