"""Customers on tasks: automatic and manual links, the ``customer`` task-list filter, what the task
page and the API show, and the customer services (list, detail with history, changes)."""
from __future__ import annotations

import logging
import re
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from workdesk import (Id, NotFound, Task, TaskEvent, TaskFilter, User, ValidationFailed, get_visible_task, require,
                      utcnow, visible_tasks, write_transaction)

from .models import CrmLink, CrmPush, Customer, CustomerEmail, TaskCustomer
from .schemas import CUSTOMER_FIELDS
from .sync import field_owner, normal_email, refresh_emails, search_text, settings

log = logging.getLogger("workdesk.plugins.crm_sync")
EMAIL_IN_TEXT = re.compile(r"[A-Za-z0-9._%+\-]{1,64}@[A-Za-z0-9.\-]{1,190}\.[A-Za-z]{2,24}")


def grant_default_permissions() -> None:
    """On enabling: the seeded ``agent`` and ``manager`` roles see customers, managers also manage them
    (an admin changes this in the role editor). Only while no role holds a ``crm.`` permission, so
    enabling again never undoes an admin's choice."""
    from workdesk import Role
    if any(p.startswith("crm.") for role in Role.select() for p in role.permissions):
        return
    for name, wanted in (("agent", ["crm.view"]), ("manager", ["crm.view", "crm.manage"])):
        role = Role.get_or_none(Role.name == name)
        if role is not None and "*" not in role.permissions:
            missing = [p for p in wanted if p not in role.permissions]
            if missing:
                role.permissions = [*role.permissions, *missing]
                role.save()


# -- the task-list filter ------------------------------------------------------------------------

def _customer_condition(query, value, context):
    # a subquery, never a join: a task must not repeat. A company also finds its contacts' tasks.
    ids = [value] + [c.id for c in Customer.select(Customer.id).where(Customer.company == value)]
    rows = TaskCustomer.select(TaskCustomer.task_id).where(TaskCustomer.customer.in_(ids)
                                                           | TaskCustomer.contact.in_(ids))
    return query.where(Task.id.in_(rows))


def task_filters() -> list:
    return [TaskFilter("customer", _l("Customer"), _customer_condition, field=lambda: Id(strict=False),
                       description=_l("Tasks of a customer (a company: its contacts' too), by the customer's id"))]


# -- automatic links ---------------------------------------------------------------------------

def _contact_by_email(emails: list[str]) -> Customer | None:
    for email in emails:
        found = (Customer.select().join(CustomerEmail, on=(CustomerEmail.customer == Customer.id))
                 .where((CustomerEmail.email == email) & Customer.deleted_at.is_null())
                 .order_by(Customer.kind.desc(), Customer.id).first())  # a contact before a company
        if found is not None:
            return found
    return None


def _record(task: Task, actor: User | None, kind: str, before: TaskCustomer | None, after: Customer | None) -> None:
    """The task's audit trail: who linked or unlinked which customer (inside the caller's transaction)."""
    old = before.contact or before.customer if before is not None else None
    TaskEvent.create(task_id=task.id, task_number=task.number, actor=actor, at=utcnow(), kind=f"crm_sync.{kind}",
                     changes={"customer": [old.name if old else None, after.name if after else None]})


def describe(event: TaskEvent) -> str | None:
    """The task page's phrase for a link or unlink in the audit trail (it follows the actor's name)."""
    pair = (event.changes or {}).get("customer") or [None, None]
    if event.kind == "crm_sync.linked" and len(pair) == 2:
        return _("linked the customer “%(name)s”", name=pair[1] or "?")
    if event.kind == "crm_sync.unlinked" and len(pair) == 2:
        return _("unlinked the customer “%(name)s”", name=pair[0] or "?")
    return None


def look_up_in_crm(email: str | None = None, phone: str | None = None) -> list[Customer]:
    """Ask the CRM for the contacts with this email or phone (contacts the last pull did not bring yet);
    what it finds is applied like a pulled record. A CRM that fails is no answer."""
    from .connectors import CrmError, active_connector
    from .sync import apply_records
    try:
        connector = active_connector(settings())
        records = connector.lookup(email=email, phone=phone)
    except CrmError as exc:
        log.info("CRM lookup failed: %s", exc)
        return []
    if not records:
        return []
    apply_records(connector, records, utcnow())
    found = CrmLink.select(CrmLink.customer).where(
        (CrmLink.connector == connector.name)
        & CrmLink.remote_id.in_([r.remote_id for r in records]) & (CrmLink.remote_type == "contact"))
    return list(Customer.select().where(Customer.id.in_(found) & Customer.deleted_at.is_null()).order_by(Customer.id))


def _looked_up(email: str) -> Customer | None:
    """A reporter unknown here, looked up in the CRM by email."""
    return _contact_by_email([email]) if look_up_in_crm(email=email) else None


def auto_link(task: Task) -> TaskCustomer | None:
    """Link a new task to the contact whose email is the reporter's, or that its title or description
    names (the reporter's first). Nothing when the task already has a customer."""
    if TaskCustomer.select().where(TaskCustomer.task_id == task.id).exists():
        return None
    emails = [normal_email(task.reporter.email)]
    emails += [normal_email(e) for e in EMAIL_IN_TEXT.findall(f"{task.title}\n{task.description}")]
    emails = list(dict.fromkeys(emails))
    found = _contact_by_email(emails) or _looked_up(emails[0])
    if found is None:
        return None
    company = found.company_id if found.kind == "contact" else found.id
    with write_transaction():
        if TaskCustomer.select().where(TaskCustomer.task_id == task.id).exists():
            return None  # linked meanwhile (a person, a redelivered event)
        TaskCustomer.insert(task_id=task.id, customer=company or found.id,
                            contact=found.id if found.kind == "contact" else None,
                            linked_by="auto").on_conflict_ignore().execute()
        _record(task, None, "linked", None, found)
    return TaskCustomer.get_or_none(TaskCustomer.task_id == task.id)


def task_deleted(task_id: int) -> None:
    with write_transaction():
        TaskCustomer.delete().where(TaskCustomer.task_id == task_id).execute()


# -- customers ------------------------------------------------------------------------------------

def customer_to_dict(customer: Customer | None) -> dict[str, Any] | None:
    if customer is None:
        return None
    current = settings()
    return {"id": customer.id, "kind": customer.kind, "name": customer.name, "emails": list(customer.emails),
            "phones": list(customer.phones), "company_id": customer.company_id, "owner": customer.owner,
            "custom": dict(customer.custom or {}), "notes": customer.notes,
            "deleted_at": customer.deleted_at.isoformat() if customer.deleted_at else None,
            "merged_into_id": customer.merged_into_id,
            "links": [{"connector": link.connector, "remote_type": link.remote_type, "remote_id": link.remote_id,
                       "remote_version": link.remote_version}
                      for link in customer.links.where(CrmLink.deleted == False)],  # noqa: E712
            "field_owners": {field: field_owner(current, field) for field in CUSTOMER_FIELDS}}


def get_customer(user: User, customer_id: int) -> Customer:
    require(user, "crm.view")
    customer = Customer.get_or_none(Customer.id == customer_id)
    if customer is None:
        raise NotFound(_("No such customer."))
    return customer


def list_customers(user: User, q: str | None = None, kind: str | None = None, include_deleted: bool = False):
    """Customers matching ``q`` in names, emails and phones (a query; the caller pages it)."""
    require(user, "crm.view")
    query = Customer.select()
    if not include_deleted:
        query = query.where(Customer.deleted_at.is_null())
    if kind:
        query = query.where(Customer.kind == kind)
    for word in (q or "").lower().split()[:5]:
        digits = re.sub(r"\D", "", word)
        term = digits if digits and len(digits) >= 3 and not re.search(r"[^\d+\-() ]", word) else word
        term = term.replace("%", "").replace("_", "")  # no wildcards of the user's: LIKE has no common escape
        if term:
            query = query.where(Customer.search_text ** f"%{term}%")
    return query


def customer_tasks(user: User, customer: Customer, limit: int = 20) -> list[Task]:
    """The customer's tasks that ``user`` may see, newest first (a company: its contacts' too)."""
    ids = [customer.id] + [c.id for c in Customer.select(Customer.id).where(Customer.company == customer.id)]
    rows = TaskCustomer.select(TaskCustomer.task_id).where(TaskCustomer.customer.in_(ids)
                                                           | TaskCustomer.contact.in_(ids))
    return list(visible_tasks(user, Task.select().where(Task.id.in_(rows))).order_by(Task.id.desc()).limit(limit))


def last_contacts(customer: Customer, task_ids: list[int], limit: int = 10) -> list[dict[str, Any]]:
    """The last activities sent to the CRM about the customer's (visible) tasks."""
    rows = (CrmPush.select().where(CrmPush.task_id.in_(task_ids or [0]) | (CrmPush.customer_id == customer.id))
            .order_by(CrmPush.id.desc()).limit(limit))
    return [{"at": (row.sent_at or row.created_at).isoformat() if (row.sent_at or row.created_at) else None,
             "kind": row.kind, "subject": row.subject, "task_id": row.task_id, "status": row.status}
            for row in rows if row.task_id is None or row.task_id in task_ids]


def customer_detail(user: User, customer: Customer) -> dict[str, Any]:
    tasks = customer_tasks(user, customer)
    task_ids = [t.id for t in tasks]
    return {**customer_to_dict(customer),
            "tasks": [{"id": t.id, "number": t.number, "title": t.title, "status": t.status,
                       "created_at": t.created_at.isoformat()} for t in tasks],
            "last_contacts": last_contacts(customer, task_ids)}


def task_history(user: User, task: Task, limit: int = 10) -> dict[str, Any] | None:
    """The history of a task's customer as the task page shows it: the customer's other tasks ``user`` may
    see and the last contacts sent to the CRM about them and this task."""
    row = TaskCustomer.get_or_none(TaskCustomer.task_id == task.id)
    if row is None or (row.customer is None and row.contact is None):
        return None
    others = [t for t in customer_tasks(user, row.customer or row.contact, limit=limit + 1) if t.id != task.id][:limit]
    return {"tasks": [{"id": t.id, "number": t.number, "title": t.title, "status": t.status,
                       "created_at": t.created_at.isoformat()} for t in others],
            "last_contacts": last_contacts(row.contact or row.customer, [t.id for t in others] + [task.id], limit)}


def update_customer(user: User, customer_id: int, changes: dict[str, Any]) -> Customer:
    """Change fields Workdesk owns (or shares); a field the CRM owns is refused, naming where to change it."""
    require(user, "crm.manage")
    current = settings()
    refused = {field: [_("The CRM owns this field: change it in the CRM; the next sync brings it here.")]
               for field in changes if field_owner(current, field) == "crm"}
    if refused:
        raise ValidationFailed(_("Some fields belong to the CRM and cannot be changed here."), refused)
    with write_transaction():
        customer = get_customer(user, customer_id)
        now = utcnow()
        local = dict(customer.local_changes or {})
        for field, value in changes.items():
            setattr(customer, field, value)
            if field_owner(current, field) == "both":
                local[field] = now.isoformat()
        customer.local_changes = local
        customer.search_text = search_text(customer.name, customer.emails, customer.phones)
        customer.updated_at = now
        customer.save()
        refresh_emails(customer)
    return customer


# -- a task's customer --------------------------------------------------------------------------

def task_customer_data(task: Task, user: User | None) -> dict[str, Any] | None:
    """``plugins.crm_sync`` of a task's JSON: its customer and contact (for people with ``crm.view``)."""
    if user is not None and not user.has_permission("crm.view"):
        return None
    row = TaskCustomer.get_or_none(TaskCustomer.task_id == task.id)
    if row is None:
        return None
    return {"customer": customer_to_dict(row.customer), "contact": customer_to_dict(row.contact),
            "linked_by": row.linked_by}


def link_task(user: User, task_id: int, customer_id: int | None, contact_id: int | None) -> dict[str, Any]:
    """Set a task's customer and contact (``crm.manage``; the task must be visible). A contact alone
    brings its company as the customer."""
    require(user, "crm.manage")
    task = get_visible_task(user, task_id)
    customer = Customer.get_or_none(Customer.id == customer_id) if customer_id else None
    contact = Customer.get_or_none(Customer.id == contact_id) if contact_id else None
    errors = {}
    if customer_id and customer is None:
        errors["customer_id"] = [_("No such customer.")]
    if contact_id and (contact is None or contact.kind != "contact"):
        errors["contact_id"] = [_("No such contact.")]
    if not customer_id and not contact_id:
        errors["customer_id"] = [_("Give a customer, a contact or both.")]
    if errors:
        raise ValidationFailed(_("Some fields are not valid."), errors)
    if customer is None and contact is not None:
        customer = Customer.get_or_none(Customer.id == contact.company_id) or contact
    with write_transaction():
        before = TaskCustomer.get_or_none(TaskCustomer.task_id == task.id)
        TaskCustomer.delete().where(TaskCustomer.task_id == task.id).execute()
        TaskCustomer.create(task_id=task.id, customer=customer, contact=contact, linked_by="manual")
        _record(task, user, "linked", before, contact or customer)
    return {"task_id": task.id, **task_customer_data(task, None)}


def unlink_task(user: User, task_id: int) -> None:
    require(user, "crm.manage")
    task = get_visible_task(user, task_id)
    with write_transaction():
        before = TaskCustomer.get_or_none(TaskCustomer.task_id == task.id)
        if before is not None:
            TaskCustomer.delete().where(TaskCustomer.task_id == task.id).execute()
            _record(task, user, "unlinked", before, None)
