"""The team's work back in the CRM: one activity per task event, through the worker.

Each event's activity is a row of the shared delivery ledger (``workdesk.notifications.delivery``),
written before the first attempt and keyed by the outbox event, so a redelivered event never makes a
second row; every attempt carries the same idempotency key (``workdesk-<event id>-<connector>``), so a
worker killed after the CRM took the activity but before the row said so sends it again and the CRM
recognises the repeat. Failures back off exponentially and end as dead letters an admin retries.
"""
from __future__ import annotations

import datetime as dt

from flask_babel import gettext as _

from workdesk import Comment, Task, notifications, record_error, utcnow, write_transaction

from .connectors import Activity, CrmError, PermanentCrmError, active_connector
from .models import CrmLink, CrmPush, Customer, TaskCustomer
from .sync import settings

delivery = notifications.delivery


def policy(current: dict) -> delivery.RetryPolicy:
    return delivery.RetryPolicy.from_settings(current)


def _target(customer_id: int | None, connector: str) -> CrmLink | None:
    """The CRM record an activity goes to: the customer's live link (a merged customer: its survivor's)."""
    seen = set()
    while customer_id is not None and customer_id not in seen:
        seen.add(customer_id)
        link = (CrmLink.select().where((CrmLink.customer == customer_id) & (CrmLink.connector == connector)
                                       & (CrmLink.deleted == False))  # noqa: E712
                .order_by(CrmLink.id).first())
        if link is not None:
            return link
        customer = Customer.get_or_none(Customer.id == customer_id)
        customer_id = customer.merged_into_id if customer is not None else None
    return None


def _texts(task: Task, kind: str, comment: Comment | None) -> tuple[str, str]:
    if kind == "created":
        return _("Task #%(number)s filed: %(title)s", number=task.number, title=task.title), task.description
    if kind == "resolved":
        return _("Task #%(number)s resolved: %(title)s", number=task.number, title=task.title), ""
    return (_("Comment on task #%(number)s: %(title)s", number=task.number, title=task.title),
            comment.body if comment is not None else "")


def push_for_event(task: Task, kind: str, event: dict, comment: Comment | None = None) -> str | None:
    """Record and send the activity of one task event (created, resolved, commented) when the task has a
    customer known to the configured CRM. Returns the ledger row's status, or None when nothing is sent."""
    current = settings()
    if not current["push_activities"]:
        return None
    row = TaskCustomer.get_or_none(TaskCustomer.task_id == task.id)
    if row is None:
        return None
    try:
        connector = active_connector(current)
    except PermanentCrmError as exc:  # a connector not configured: nothing can be sent, and retrying will not help
        record_error("crm_sync", f"no activity sent for task {task.id}: {exc}")
        return None
    if not connector.can_push:
        return None
    customer_id = row.contact_id or row.customer_id
    if _target(customer_id, connector.name) is None and row.customer_id:
        customer_id = row.customer_id  # the contact is not in the CRM: its company is
    if _target(customer_id, connector.name) is None:
        return None
    subject, body = _texts(task, kind, comment)
    key = f"workdesk-{event['id']}-{connector.name}"
    push = delivery.record(CrmPush, event["id"], [connector.name])[0]
    if not push.idempotency_key:
        with write_transaction():
            CrmPush.update(task_id=task.id, customer_id=customer_id, kind=kind, subject=subject[:300], body=body,
                           idempotency_key=key).where(CrmPush.id == push.id).execute()
    if push.status != "pending":
        return push.status  # a redelivered event: this activity was already handled
    return delivery.attempt(push, lambda r: send(r, current), policy(current))


def send(row: CrmPush, current: dict) -> None:
    """One attempt of one activity; raises to fail (see ``workdesk.notifications.delivery.attempt``)."""
    try:
        connector = active_connector(current)
    except PermanentCrmError as exc:
        raise delivery.PermanentDeliveryError(str(exc)) from None
    if connector.name != row.destination:
        raise delivery.PermanentDeliveryError(f"the connector {row.destination!r} is no longer configured")
    link = _target(row.customer_id, connector.name)
    if link is None:
        raise delivery.PermanentDeliveryError("the customer is no longer in the CRM")
    activity = Activity(kind=row.kind, subject=row.subject, body=row.body, remote_type=link.remote_type,
                        remote_id=link.remote_id, task_id=row.task_id,
                        task_url=notifications.task_url(row.task_id) or "")
    try:
        remote_id = connector.push_activity(activity, row.idempotency_key)
    except PermanentCrmError as exc:
        raise delivery.PermanentDeliveryError(str(exc)) from None
    except CrmError:
        raise
    with write_transaction():
        CrmPush.update(remote_id=remote_id[:100] or None).where(CrmPush.id == row.id).execute()


def push_due(now: dt.datetime, since: dt.datetime | None = None) -> int:
    """Retry the activities whose backoff has passed as of ``now``; returns how many went out."""
    current = settings()
    return delivery.retry_due(CrmPush, lambda r: send(r, current), policy(current), now)


def retry_dead_pushes(ids) -> int:
    """An admin's retry: the dead activities go out with the next retry run."""
    return delivery.retry_dead(CrmPush, ids, utcnow())
