"""JSON API under /api/v1/crm: customers (``crm.view``), a task's customer (``crm.manage``), the
inbound webhook (signed; no user) and "sync now" (``crm.manage``)."""
from __future__ import annotations

import time

from flask import request
from flask_babel import gettext as _

from workdesk import (api_blueprint, api_operation, errors, keyset_page, load_json, load_query, require,
                      require_api_user, utcnow)

from . import links
from .connectors import ConnectorMissing, CrmError, InboundRefused, PermanentCrmError, active_connector
from .schemas import (CustomerChange, CustomerDetail, CustomerList, CustomerOutput, CustomerQuery, SyncAnswer,
                      SyncQuery, TaskCustomerInput, TaskCustomerOutput, WebhookAnswer)
from .sync import apply_inbound_once, pull, settings



class CrmUnavailable(errors.WorkdeskError):
    """The CRM did not answer (after the retries): 502, worth trying again later."""
    status, code = 502, "crm_unavailable"


class ConnectorGone(errors.WorkdeskError):
    """The chosen connector's plugin is uninstalled or disabled: 409 until it is back or another is chosen."""
    status, code = 409, "crm_connector_missing"


blueprint = api_blueprint("crm_sync_api", __name__, url_prefix="/api/v1/crm")
TAGS = ("crm",)


@blueprint.get("/customers")
@api_operation("List customers", tags=TAGS, query=CustomerQuery, response=CustomerList)
def list_customers():
    """Companies and contacts, newest first; ``q`` searches names, emails and phones."""
    query = load_query(CustomerQuery)
    rows = links.list_customers(require_api_user(), query.get("q"), query.get("kind"), query["include_deleted"])
    from .models import Customer
    page, next_cursor = keyset_page(rows, Customer.id, query["limit"], query.get("cursor"))
    return {"items": [links.customer_to_dict(c) for c in page], "next_cursor": next_cursor}


@blueprint.get("/customers/<id:customer_id>")
@api_operation("Show a customer with their history", tags=TAGS, response=CustomerDetail)
def show_customer(customer_id: int):
    """The customer, the CRM's data, their tasks you may see (newest first) and the last contacts (activities
    sent to the CRM about them)."""
    user = require_api_user()
    return links.customer_detail(user, links.get_customer(user, customer_id))


@blueprint.patch("/customers/<id:customer_id>")
@api_operation("Change a customer's Workdesk fields", tags=TAGS, request=CustomerChange, response=CustomerOutput)
def change_customer(customer_id: int):
    """Only fields Workdesk owns or shares (``field_owners`` setting); a field the CRM owns is refused with a
    422 naming it."""
    user = require_api_user()
    return links.customer_to_dict(links.update_customer(user, customer_id, load_json(CustomerChange)))


@blueprint.get("/tasks/<id:task_id>/customer")
@api_operation("A task's customer", tags=TAGS, response=TaskCustomerOutput)
def show_task_customer(task_id: int):
    """The task's customer and contact with the CRM's data, and their history: their other tasks you may see
    (newest first) and the last contacts sent to the CRM."""
    user = require_api_user()
    require(user, "crm.view")
    from workdesk import get_visible_task
    task = get_visible_task(user, task_id)
    data = links.task_customer_data(task, None) or {"customer": None, "contact": None, "linked_by": None}
    return {"task_id": task.id, **data, "history": links.task_history(user, task)}


@blueprint.put("/tasks/<id:task_id>/customer")
@api_operation("Link a customer to a task", tags=TAGS, request=TaskCustomerInput, response=TaskCustomerOutput)
def link_task_customer(task_id: int):
    """Set the task's customer and contact (a contact alone brings its company); replaces the previous link."""
    data = load_json(TaskCustomerInput)
    return links.link_task(require_api_user(), task_id, data.get("customer_id"), data.get("contact_id"))


@blueprint.delete("/tasks/<id:task_id>/customer")
@api_operation("Unlink a task's customer", tags=TAGS, status=204)
def unlink_task_customer(task_id: int):
    links.unlink_task(require_api_user(), task_id)
    return "", 204


@blueprint.post("/sync")
@api_operation("Pull the CRM's changes now", tags=TAGS, query=SyncQuery, response=SyncAnswer, errors=(409, 502))
def sync_now():
    """An incremental pull from the committed cursor, in this request (``?full=true``: a full reconcile)."""
    require(require_api_user(), "crm.manage")
    full = load_query(SyncQuery)["full"]
    try:
        counts = pull(utcnow(), full=full)
    except ConnectorMissing as exc:
        raise ConnectorGone(str(exc)) from None
    except CrmError as exc:
        raise CrmUnavailable(_("The CRM could not be reached: %(error)s", error=str(exc))) from None
    return {"counts": counts}


@blueprint.post("/webhook")
@api_operation("Receive a change from the CRM", tags=TAGS, response=WebhookAnswer, public=True, errors=(401, 502))
def webhook():
    """The CRM's webhook. The generic connector signs ``X-CRM-Signature: sha256=HMAC(secret,
    "<X-CRM-Timestamp>.<body>")`` (five minutes' replay window) with a ``X-CRM-Delivery`` id; Bitrix24's
    event handler is checked by its ``application_token``. A bad or missing signature answers 401 and
    changes nothing (a bearer token never replaces it); a delivery seen before is acknowledged, not applied."""
    body = request.get_data(cache=True)
    try:
        connector = active_connector(settings())
        event = connector.verify_inbound(request.headers, body, request.form, time.time())
    except (InboundRefused, PermanentCrmError):
        raise errors.Unauthorized(_("The delivery's signature does not verify.")) from None
    except CrmError as exc:
        raise CrmUnavailable(_("The CRM could not be reached: %(error)s", error=str(exc))) from None
    applied = apply_inbound_once(connector, event.delivery_id, event.records, utcnow())
    return {"status": "applied" if applied else "duplicate"}
