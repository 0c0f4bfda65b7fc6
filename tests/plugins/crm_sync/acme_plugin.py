"""A third party's CRM connector, packaged as its own plugin: the path docs/plugins/crm_sync.md describes.

Acme's CRM pages its contacts by a revision cursor (the local generic CRM of these tests plays it); the
connector keeps Acme's address in its own plugin's settings, not in crm_sync's.
"""
from __future__ import annotations

import json

import marshmallow as ma

from workdesk import Plugin, hookimpl, plugin_settings
from workdesk.plugins.crm_sync.connectors import Connector, CrmHttp, Page, PermanentCrmError, RemoteRecord


class AcmeConnector(Connector):
    """Acme CRM"""
    name = "acme"
    label = "Acme CRM"
    resources = ("contacts",)
    can_push = False

    def __init__(self, settings):
        super().__init__(settings)
        self.base = plugin_settings("acme_crm")["base_url"].rstrip("/")
        self.http = CrmHttp(settings)  # crm_sync's guard, rate limit and retries

    def pull(self, resource, cursor):
        answer = self.http.request("GET", f"{self.base}/contacts?limit=2&cursor={cursor or 0}",
                                   headers={"Authorization": "Bearer crm-token-123"})
        if answer.status != 200:
            raise PermanentCrmError(f"Acme answered {answer.status}")
        data = json.loads(answer.body)
        records = [RemoteRecord("contact", str(item["id"]), version=f"{item['version']:020d}",
                                name=item.get("name", ""), emails=item.get("emails", []))
                   for item in data["items"]]
        return Page(records, cursor=data["next_cursor"], has_more=data["has_more"])


class AcmeSettings(ma.Schema):
    base_url = ma.fields.String(load_default="")


class AcmeCrmPlugin(Plugin):
    """Acme CRM connector"""
    name = "acme_crm"
    settings_schema = AcmeSettings

    @hookimpl
    def register_crm_connectors(self):
        return [AcmeConnector]
