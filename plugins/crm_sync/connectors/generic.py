"""The generic REST/JSON connector: any CRM (or an adapter in front of one) speaking the protocol in
docs/plugins/crm_sync.md.

- ``GET <base><path>?cursor=<c>&limit=<n>`` answers ``{"items": [...], "next_cursor": "...", "has_more": bool}``,
  items in the order of their change, deletions and merges as tombstones (``deleted``, ``merged_into``);
- ``GET <base><contacts path>?email=<e>`` (or ``phone``) answers ``{"items": [...]}``;
- ``POST <base><activities path>`` with an ``Idempotency-Key`` header creates an activity once;
- webhooks are signed ``X-CRM-Signature: sha256=HMAC(secret, "<X-CRM-Timestamp>.<body>")`` with a
  ``X-CRM-Delivery`` id.
"""
from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any, Mapping
from urllib.parse import urlencode

from flask_babel import lazy_gettext as _l

from . import (LOOKUP_ATTEMPTS, Activity, Connector, CrmHttp, InboundEvent, InboundRefused, Page, PermanentCrmError,
               RemoteRecord)

SIGNATURE_HEADER = "X-CRM-Signature"
TIMESTAMP_HEADER = "X-CRM-Timestamp"
DELIVERY_HEADER = "X-CRM-Delivery"
REPLAY_WINDOW_SECONDS = 300
RESOURCE_TYPES = {"contacts": "contact", "companies": "company"}


def sign(secret: str, timestamp: int | str, body: bytes) -> str:
    """The ``X-CRM-Signature`` value a generic CRM sends for ``body`` at ``timestamp``."""
    return "sha256=" + hmac.new(secret.encode(), str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()


def _version(value: Any) -> str:
    # numbers sort as zero-padded text; anything else (an ISO instant) is kept as written
    if isinstance(value, bool):
        return ""
    if isinstance(value, int):
        return f"{value:020d}"
    return str(value or "")[:64]


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        value = [value]
    return [str(v)[:254] for v in (value or []) if isinstance(v, (str, int)) and str(v).strip()]


class GenericConnector(Connector):
    """Generic REST/JSON"""
    name = "generic"
    label = _l("Generic REST/JSON")

    def __init__(self, settings: Mapping[str, Any]):
        super().__init__(settings)
        if not settings.get("generic_base_url"):
            raise PermanentCrmError("generic_base_url is not set in the crm_sync settings")
        self.base = settings["generic_base_url"].rstrip("/")
        self.map = {**{k: k for k in ("id", "version", "name", "emails", "phones", "company_id", "owner", "custom",
                                      "deleted", "merged_into")}, **(settings.get("generic_field_map") or {})}
        self.http = CrmHttp(settings)

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json", "User-Agent": "Workdesk-CRM-Sync/0.1"}
        if self.settings.get("generic_token"):
            headers["Authorization"] = f"Bearer {self.settings['generic_token']}"
        return headers

    def _get(self, path: str, params: dict, attempts: int | None = None) -> dict:
        response = self.http.request("GET", f"{self.base}{path}?{urlencode(params)}", headers=self._headers(),
                                     attempts=attempts)
        if response.status != 200:
            raise PermanentCrmError(f"the CRM answered {response.status} to GET {path}")
        try:
            data = json.loads(response.body)
        except ValueError:
            raise PermanentCrmError(f"the CRM's answer to GET {path} is not JSON") from None
        if not isinstance(data, dict) or not isinstance(data.get("items"), list):
            raise PermanentCrmError(f"the CRM's answer to GET {path} has no items list")
        return data

    def record(self, remote_type: str, item: Mapping[str, Any]) -> RemoteRecord:
        """One item of the CRM's JSON, read through the field map."""
        get = lambda key: item.get(self.map[key])  # noqa: E731
        merged = get("merged_into")
        company = get("company_id")
        custom = get("custom")
        return RemoteRecord(
            remote_type=remote_type, remote_id=str(get("id")), version=_version(get("version")),
            name=str(get("name") or "")[:300], emails=_strings(get("emails")), phones=_strings(get("phones")),
            company_remote_id=str(company) if company not in (None, "") else None,
            owner=str(get("owner") or "")[:200], custom=custom if isinstance(custom, dict) else {},
            deleted=bool(get("deleted")), merged_into=str(merged) if merged not in (None, "") else None)

    def _path(self, resource: str) -> str:
        return self.settings[f"generic_{resource}_path"]

    def pull(self, resource: str, cursor: str | None) -> Page:
        params = {"limit": self.settings["page_size"]}
        if cursor:
            params["cursor"] = cursor
        data = self._get(self._path(resource), params)
        records = [self.record(RESOURCE_TYPES[resource], item) for item in data["items"]
                   if isinstance(item, dict) and item.get(self.map["id"]) not in (None, "")]
        next_cursor = data.get("next_cursor")
        return Page(records, str(next_cursor) if next_cursor else cursor, bool(data.get("has_more")),
                    data.get("total") if isinstance(data.get("total"), int) else None)

    def lookup(self, email: str | None = None, phone: str | None = None) -> list[RemoteRecord]:
        params = {"email": email} if email else {"phone": phone}
        found = self._get(self._path("contacts"), params, attempts=LOOKUP_ATTEMPTS)["items"]
        return [self.record("contact", item) for item in found if isinstance(item, dict)]

    def push_activity(self, activity: Activity, idempotency_key: str) -> str:
        body = json.dumps({f"{activity.remote_type}_id": activity.remote_id, "kind": activity.kind,
                           "subject": activity.subject, "body": activity.body,
                           "task": {"id": activity.task_id, "url": activity.task_url}},
                          ensure_ascii=False).encode()
        headers = {**self._headers(), "Content-Type": "application/json", "Idempotency-Key": idempotency_key}
        response = self.http.request("POST", f"{self.base}{self.settings['generic_activities_path']}", body, headers)
        if response.status not in (200, 201):
            raise PermanentCrmError(f"the CRM answered {response.status} to the activity")
        try:
            return str(json.loads(response.body).get("id", ""))
        except (ValueError, AttributeError):
            return ""

    def verify_inbound(self, headers: Mapping[str, str], body: bytes, form: Mapping[str, str],
                       now: float) -> InboundEvent:
        secret = self.settings.get("generic_webhook_secret") or ""
        timestamp = headers.get(TIMESTAMP_HEADER, "")
        signature = headers.get(SIGNATURE_HEADER, "")
        if not secret:
            raise InboundRefused("no webhook secret is configured")
        if not timestamp.isdigit() or abs(now - int(timestamp)) > REPLAY_WINDOW_SECONDS:
            raise InboundRefused("the timestamp is missing or outside the replay window")
        if not hmac.compare_digest(sign(secret, timestamp, body), signature):
            raise InboundRefused("the signature does not match")
        delivery = headers.get(DELIVERY_HEADER, "").strip()
        try:
            data = json.loads(body)
        except ValueError:
            raise InboundRefused("the body is not JSON") from None
        if not isinstance(data, dict) or not isinstance(data.get("data"), dict):
            raise InboundRefused("the body has no data object")
        event = str(data.get("event", ""))
        remote_type = "company" if event.startswith("company.") else "contact"
        record = self.record(remote_type, data["data"])
        if event.endswith(".deleted"):
            record.deleted = True
        # without a delivery id the signed body itself identifies the delivery
        delivery_id = delivery[:200] or hashlib.sha256(timestamp.encode() + b"." + body).hexdigest()
        return InboundEvent(delivery_id, [record])
