"""The Bitrix24 connector, through Bitrix24's public REST methods on an inbound webhook address
(``https://<portal>/rest/<user>/<code>/<method>.json``).

- Pull: ``crm.company.list`` and ``crm.contact.list`` with ``order {DATE_MODIFY, ID}``, a
  ``>=DATE_MODIFY`` filter from the cursor and ``start`` paging inside a run of equal modification
  times. The cursor is the last record seen (its ``DATE_MODIFY`` and ``ID``), not an offset into the
  whole list, so records changed during a sync (which move to the end) never shift a page.
- Push: ``crm.timeline.comment.add`` on the contact's or company's timeline, the comment's last line
  carrying the idempotency key; before adding, ``crm.timeline.comment.list`` (newest first) finds a
  comment a killed worker already sent. (``crm.activity.add`` of a custom type needs the
  ``REST_APP`` provider, which Bitrix24 accepts only from an installed application: through an
  inbound webhook it answers "Application context required".)
- Lookup: ``crm.contact.list`` filtered on ``EMAIL`` or ``PHONE``.
- Inbound: the outbound event handler's ``ONCRM{CONTACT,COMPANY}{ADD,UPDATE,DELETE}`` calls, verified by
  ``auth[application_token]``; the record is then read with ``crm.contact.get`` / ``crm.company.get``.
- Limits: Bitrix24 answers ``QUERY_LIMIT_EXCEEDED`` (503, or 429 with ``Retry-After``) beyond two
  requests a second; :class:`CrmHttp` waits and retries.

Bitrix24 reports a merge (``crm.entity.mergeBatch``, the duplicate finder) as the loser's deletion,
so a deleted record whose email or phone a surviving record has is treated as merged into it.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
from typing import Any, Mapping

from . import (LOOKUP_ATTEMPTS, Activity, Connector, CrmError, CrmHttp, InboundEvent, InboundRefused, Page,
               PermanentCrmError, RemoteRecord)

ENTITIES = {"contacts": ("contact", "crm.contact"), "companies": ("company", "crm.company")}
COMMENT_PAGES_SEARCHED = 4  # newest first, 50 a page: a resend follows its first attempt closely
EVENTS = {"ONCRMCONTACTADD": ("contact", False), "ONCRMCONTACTUPDATE": ("contact", False),
          "ONCRMCONTACTDELETE": ("contact", True), "ONCRMCOMPANYADD": ("company", False),
          "ONCRMCOMPANYUPDATE": ("company", False), "ONCRMCOMPANYDELETE": ("company", True)}
SELECT = {"contact": ["ID", "NAME", "SECOND_NAME", "LAST_NAME", "EMAIL", "PHONE", "COMPANY_ID", "ASSIGNED_BY_ID",
                      "DATE_MODIFY", "UF_*"],
          "company": ["ID", "TITLE", "EMAIL", "PHONE", "ASSIGNED_BY_ID", "DATE_MODIFY", "UF_*"]}


def utc_version(value: str) -> str:
    """Bitrix24's ``DATE_MODIFY`` (ISO 8601 with the portal's offset) as sortable UTC text."""
    try:
        when = dt.datetime.fromisoformat(str(value))
    except ValueError:
        return ""
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    return when.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _multi(value: Any) -> list[str]:
    # EMAIL and PHONE are lists of {"ID", "VALUE", "VALUE_TYPE"}
    return [str(item.get("VALUE"))[:254] for item in (value or []) if isinstance(item, dict) and item.get("VALUE")]


def record_of(remote_type: str, item: Mapping[str, Any]) -> RemoteRecord:
    """A contact or company of Bitrix24's JSON as a :class:`RemoteRecord`."""
    if remote_type == "contact":
        name = " ".join(str(item.get(k) or "").strip() for k in ("NAME", "SECOND_NAME", "LAST_NAME")).split()
        name = " ".join(name)
    else:
        name = str(item.get("TITLE") or "")
    company = item.get("COMPANY_ID")
    return RemoteRecord(
        remote_type=remote_type, remote_id=str(item.get("ID")), version=utc_version(item.get("DATE_MODIFY", "")),
        name=name[:300], emails=_multi(item.get("EMAIL")), phones=_multi(item.get("PHONE")),
        company_remote_id=str(company) if company not in (None, "", "0", 0) else None,
        owner=str(item.get("ASSIGNED_BY_ID") or "")[:200],
        custom={k: v for k, v in item.items() if k.startswith("UF_")})


class Bitrix24Connector(Connector):
    """Bitrix24"""
    name = "bitrix24"
    label = "Bitrix24"
    merges_by_shared_contacts = True

    def __init__(self, settings: Mapping[str, Any]):
        super().__init__(settings)
        if not settings.get("bitrix_webhook_url"):
            raise PermanentCrmError("bitrix_webhook_url is not set in the crm_sync settings")
        self.base = settings["bitrix_webhook_url"].rstrip("/") + "/"
        self.http = CrmHttp(settings, limited=("QUERY_LIMIT_EXCEEDED",))

    def call(self, method: str, params: Mapping[str, Any], attempts: int | None = None) -> dict:
        """One REST method; returns Bitrix24's whole answer (``result``, ``next``, ``total``)."""
        response = self.http.request("POST", f"{self.base}{method}.json",
                                     json.dumps(params, ensure_ascii=False).encode(),
                                     {"Content-Type": "application/json", "Accept": "application/json"}, attempts)
        try:
            data = json.loads(response.body)
        except ValueError:
            raise PermanentCrmError(f"Bitrix24's answer to {method} is not JSON ({response.status})") from None
        if not isinstance(data, dict):
            raise PermanentCrmError(f"Bitrix24's answer to {method} is not an object")
        if "error" in data or response.status >= 400:
            error = str(data.get("error", response.status))
            if error in ("QUERY_LIMIT_EXCEEDED", "OPERATION_TIME_LIMIT"):
                raise CrmError(f"Bitrix24 {method}: {error}")
            raise PermanentCrmError(f"Bitrix24 {method}: {error} {str(data.get('error_description', ''))[:200]}")
        return data

    def pull(self, resource: str, cursor: str | None) -> Page:
        remote_type, prefix = ENTITIES[resource]
        position = json.loads(cursor) if cursor else {}
        modified, last_id, start = position.get("m"), int(position.get("id", 0)), int(position.get("s", 0))
        params: dict[str, Any] = {"order": {"DATE_MODIFY": "ASC", "ID": "ASC"}, "select": SELECT[remote_type],
                                  "filter": {">=DATE_MODIFY": modified} if modified else {}, "start": start}
        data = self.call(f"{prefix}.list", params)
        raw = [item for item in data.get("result") or [] if isinstance(item, dict) and item.get("ID")]
        seen = (utc_version(modified) if modified else "", last_id)
        fresh = [item for item in raw if (utc_version(item.get("DATE_MODIFY", "")), int(item["ID"])) > seen]
        has_more = "next" in data
        if fresh:
            last = fresh[-1]
            new_modified = last.get("DATE_MODIFY")
            same = sum(1 for item in raw if utc_version(item.get("DATE_MODIFY", "")) == utc_version(new_modified))
            new_start = start + same if new_modified == modified else same
            position = {"m": new_modified, "id": int(last["ID"]), "s": new_start}
        elif has_more and raw and modified and all(
                utc_version(item.get("DATE_MODIFY", "")) == utc_version(modified) for item in raw):
            position = {**position, "s": start + len(raw)}  # a run of equal times longer than a page
        # else: a duplicated or stale page (nothing after the cursor): the same position is asked again
        return Page([record_of(remote_type, item) for item in fresh], json.dumps(position) if position else None,
                    has_more, data.get("total") if isinstance(data.get("total"), int) else None)

    def get(self, remote_type: str, remote_id: str) -> RemoteRecord | None:
        prefix = dict(ENTITIES.values())[remote_type]
        try:
            data = self.call(f"{prefix}.get", {"id": remote_id})
        except PermanentCrmError as exc:
            if "NOT_FOUND" in str(exc) or "Not found" in str(exc):
                return None
            raise
        result = data.get("result")
        return record_of(remote_type, result) if isinstance(result, dict) else None

    def lookup(self, email: str | None = None, phone: str | None = None) -> list[RemoteRecord]:
        data = self.call("crm.contact.list", {"filter": {"EMAIL": email} if email else {"PHONE": phone},
                                              "select": SELECT["contact"]}, attempts=LOOKUP_ATTEMPTS)
        return [record_of("contact", item) for item in data.get("result") or [] if isinstance(item, dict)]

    def _comment_with(self, entity: Mapping[str, Any], marker: str) -> str | None:
        """The id of the comment on ``entity``'s timeline whose text carries ``marker``, among the newest."""
        start = 0
        for _page in range(COMMENT_PAGES_SEARCHED):
            data = self.call("crm.timeline.comment.list", {"filter": dict(entity), "select": ["ID", "COMMENT"],
                                                           "order": {"ID": "DESC"}, "start": start})
            for item in data.get("result") or []:
                if isinstance(item, dict) and marker in str(item.get("COMMENT") or ""):
                    return str(item.get("ID", ""))
            if "next" not in data:
                return None
            start = int(data["next"])
        return None

    def push_activity(self, activity: Activity, idempotency_key: str) -> str:
        entity = {"ENTITY_ID": int(activity.remote_id), "ENTITY_TYPE": activity.remote_type}
        marker = f"[{idempotency_key}]"
        found = self._comment_with(entity, marker)
        if found is not None:
            return found  # sent before the worker died: not again
        text = "\n".join(part for part in (activity.subject, activity.body, activity.task_url) if part)
        # one attempt: Bitrix24 has no idempotency key, so a retry must look for the marker first (the
        # delivery ledger retries this whole method)
        data = self.call("crm.timeline.comment.add", attempts=1,
                         params={"fields": {**entity, "COMMENT": f"{text}\n{marker}"}})
        return str(data.get("result", ""))

    def verify_inbound(self, headers: Mapping[str, str], body: bytes, form: Mapping[str, str],
                       now: float) -> InboundEvent:
        expected = self.settings.get("bitrix_application_token") or ""
        token = form.get("auth[application_token]", "")
        if not expected or not hmac.compare_digest(expected.encode(), token.encode()):
            raise InboundRefused("the application_token does not match")
        event = form.get("event", "").upper()
        if event not in EVENTS:
            raise InboundRefused(f"unknown event {event[:40]!r}")
        remote_type, deleted = EVENTS[event]
        remote_id = form.get("data[FIELDS][ID]", "").strip()
        if not remote_id.isdigit():
            raise InboundRefused("the event names no record")
        # Bitrix24 sends no delivery id: the event, the record and its timestamp identify a delivery
        delivery_id = hashlib.sha256(f"{event}:{remote_id}:{form.get('ts', '')}".encode()).hexdigest()
        if deleted:
            return InboundEvent(delivery_id, [RemoteRecord(remote_type, remote_id, deleted=True)])
        record = self.get(remote_type, remote_id)
        return InboundEvent(delivery_id, [record] if record is not None else
                            [RemoteRecord(remote_type, remote_id, deleted=True)])
