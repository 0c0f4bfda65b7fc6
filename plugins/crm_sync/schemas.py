"""The CRM sync plugin's settings and its API's schemas."""
from __future__ import annotations

import marshmallow as ma
from flask_babel import lazy_gettext as _l

from workdesk import Id, JsonObject, PageQuerySchema, RetrySettings, Text, page_schema

CONNECTORS = ("generic", "bitrix24", "csv")
OWNERS = ("crm", "workdesk", "both")
CONFLICT_RULES = ("crm_wins", "workdesk_wins")
# The fields of a customer, and who owns each unless the settings say otherwise.
CUSTOMER_FIELDS = ("name", "emails", "phones", "company", "owner", "custom", "notes")
DEFAULT_OWNERS = {"name": "crm", "emails": "crm", "phones": "crm", "company": "crm", "owner": "crm",
                  "custom": "crm", "notes": "workdesk"}
DEFAULT_FIELD_MAP = {"id": "id", "version": "version", "name": "name", "emails": "emails", "phones": "phones",
                     "company_id": "company_id", "owner": "owner", "custom": "custom", "deleted": "deleted",
                     "merged_into": "merged_into"}


def _check_owners(value: dict) -> None:
    for field, owner in value.items():
        if field not in CUSTOMER_FIELDS or owner not in OWNERS:
            raise ma.ValidationError(
                f"{field!r}: fields are {', '.join(CUSTOMER_FIELDS)}; owners are {', '.join(OWNERS)}.")


def _check_rules(value: dict) -> None:
    for field, rule in value.items():
        if field not in CUSTOMER_FIELDS or rule not in CONFLICT_RULES:
            raise ma.ValidationError(
                f"{field!r}: fields are {', '.join(CUSTOMER_FIELDS)}; rules are {', '.join(CONFLICT_RULES)}.")


_URL = ma.validate.URL(schemes={"http", "https"}, require_tld=False)


def _url_or_empty(value: str) -> None:
    if value:
        _URL(value)


class RegisteredConnector(ma.validate.OneOf):
    """One of the connectors plugins register (the built-in ones first), read whenever the settings are
    checked or their form is drawn: a third party's connector is chosen by its name like ours."""

    def __init__(self):
        super().__init__(CONNECTORS, error="Must be one of the registered connectors: {choices}.")

    @staticmethod
    def _choices() -> dict[str, str]:
        from .connectors import connector_choices
        return connector_choices()

    # OneOf stores these once; here they are read each time (the setters keep OneOf.__init__ working)
    choices = property(lambda self: tuple(self._choices()), lambda self, value: None)
    labels = property(lambda self: tuple(str(label) for label in self._choices().values()), lambda self, value: None)
    choices_text = property(lambda self: ", ".join(self.choices), lambda self, value: None)
    labels_text = property(lambda self: ", ".join(self.labels), lambda self, value: None)


def _check_field_map(value: dict) -> None:
    for field, name in value.items():
        if field not in DEFAULT_FIELD_MAP or not isinstance(name, str) or not name.strip() or len(name) > 100:
            raise ma.ValidationError(
                f"{field!r}: map each of {', '.join(DEFAULT_FIELD_MAP)} to the name (text) the CRM gives it.")


def _default_connector() -> str:
    """``csv``, unless the stored choice names a connector no installed plugin provides any more: it is
    dropped as invalid when the settings are read, and kept here instead so the sync stops and says so
    (see ``connectors.missing_connector``) rather than quietly using ``csv`` in its place."""
    from workdesk import get_registry
    try:
        stored = get_registry().stored_settings("crm_sync").get("connector")
    except RuntimeError:  # no registry yet
        return "csv"
    if isinstance(stored, str) and stored and stored not in RegisteredConnector().choices:
        return stored
    return "csv"


# the sections of the settings form, one per connector and the shared ones
GENERIC, BITRIX, EVERY = _l("Generic REST/JSON"), "Bitrix24", _l("Every connector")
FIELDS, SYNC = _l("Customer fields"), _l("Sync and activities")


class CrmSyncSettings(RetrySettings):
    connector = ma.fields.String(load_default=_default_connector, validate=RegisteredConnector(), metadata={
        "description": "Which CRM to sync with: generic (REST/JSON), bitrix24, csv (files only: 1C, "
                       "spreadsheets), or a connector another plugin registers"})
    # -- generic REST/JSON
    generic_base_url = ma.fields.String(load_default="", validate=_url_or_empty, metadata={
        "group": GENERIC, "description": "Generic REST: the CRM's API address, e.g. https://crm.example.com/api"})
    generic_token = ma.fields.String(load_default="", validate=ma.validate.Length(max=500), metadata={
        "group": GENERIC, "description": "Generic REST: bearer token sent to the CRM", "secret": True})
    generic_contacts_path = ma.fields.String(load_default="/contacts", validate=ma.validate.Length(1, 200),
                                             metadata={"group": GENERIC})
    generic_companies_path = ma.fields.String(load_default="/companies", validate=ma.validate.Length(1, 200),
                                              metadata={"group": GENERIC})
    generic_activities_path = ma.fields.String(load_default="/activities", validate=ma.validate.Length(1, 200),
                                               metadata={"group": GENERIC})
    generic_field_map = JsonObject(load_default=lambda: dict(DEFAULT_FIELD_MAP), validate=_check_field_map, metadata={
        "group": GENERIC,
        "description": "Generic REST: the CRM's name for each of our fields, e.g. {\"name\": \"full_name\"}"})
    generic_webhook_secret = ma.fields.String(load_default="", validate=ma.validate.Length(max=256), metadata={
        "group": GENERIC, "secret": True,
        "description": "Generic REST: HMAC-SHA256 key the CRM signs its webhooks with (16+ characters)"})
    # -- Bitrix24
    bitrix_webhook_url = ma.fields.String(load_default="", validate=_url_or_empty, metadata={
        "group": BITRIX, "secret": True,
        "description": "Bitrix24: the inbound webhook address, https://<portal>/rest/<user>/<code>/"})
    bitrix_application_token = ma.fields.String(load_default="", validate=ma.validate.Length(max=200), metadata={
        "group": BITRIX, "secret": True, "description": "Bitrix24: the application_token of the outbound event handler"})
    # -- every connector
    page_size = ma.fields.Integer(load_default=50, validate=ma.validate.Range(1, 500), metadata={"group": EVERY})
    rate_limit_per_second = ma.fields.Float(load_default=2.0, validate=ma.validate.Range(0.1, 1000), metadata={
        "group": EVERY, "description": "Requests per second at most (Bitrix24 allows 2)"})
    timeout_seconds = ma.fields.Float(load_default=15.0, validate=ma.validate.Range(0.1, 120), metadata={"group": EVERY})
    allow_private_destinations = ma.fields.Boolean(load_default=False, metadata={
        "group": EVERY, "description": "Allow a CRM address on loopback, link-local or private networks (off: refused)"})
    field_owners = JsonObject(load_default=lambda: dict(DEFAULT_OWNERS), validate=_check_owners, metadata={
        "group": FIELDS,
        "description": "Who owns each field: crm (changing it here is refused), workdesk (the sync leaves it), "
                       "or both (see conflict_rules)"})
    conflict_rules = JsonObject(load_default=dict, validate=_check_rules, metadata={
        "group": FIELDS, "description": "For fields both sides change: crm_wins (default) or workdesk_wins"})
    full_reconcile_hours = ma.fields.Integer(load_default=24, validate=ma.validate.Range(1, 24 * 30),
                                             metadata={"group": SYNC})
    push_activities = ma.fields.Boolean(load_default=True, metadata={
        "group": SYNC, "description": "Send created, resolved and commented tasks to the CRM as activities"})

    @ma.validates_schema
    def _connector_needs(self, data, **kwargs):
        if data.get("connector") == "generic" and data.get("generic_webhook_secret") and \
                len(data["generic_webhook_secret"]) < 16:
            raise ma.ValidationError("At least 16 characters.", "generic_webhook_secret")


# -- API ----------------------------------------------------------------------------------------

class CustomerQuery(PageQuerySchema):
    q = Text(max_length=200, metadata={"description": "Search names, emails and phones"})
    kind = ma.fields.String(validate=ma.validate.OneOf(("company", "contact")))
    include_deleted = ma.fields.Boolean(load_default=False)


class LinkOutput(ma.Schema):
    connector = ma.fields.String()
    remote_type = ma.fields.String()
    remote_id = ma.fields.String()
    remote_version = ma.fields.String()


class CustomerOutput(ma.Schema):
    id = ma.fields.Integer()
    kind = ma.fields.String()
    name = ma.fields.String()
    emails = ma.fields.List(ma.fields.String())
    phones = ma.fields.List(ma.fields.String())
    company_id = ma.fields.Integer(allow_none=True)
    owner = ma.fields.String()
    custom = ma.fields.Dict()
    notes = ma.fields.String()
    deleted_at = ma.fields.String(allow_none=True)
    merged_into_id = ma.fields.Integer(allow_none=True)
    links = ma.fields.List(ma.fields.Nested(LinkOutput))
    field_owners = ma.fields.Dict()


class HistoryTask(ma.Schema):
    id = ma.fields.Integer()
    number = ma.fields.Integer()
    title = ma.fields.String()
    status = ma.fields.String()
    created_at = ma.fields.String()


class HistoryContact(ma.Schema):
    at = ma.fields.String(allow_none=True)
    kind = ma.fields.String()
    subject = ma.fields.String()
    task_id = ma.fields.Integer(allow_none=True)
    status = ma.fields.String()


class CustomerDetail(CustomerOutput):
    tasks = ma.fields.List(ma.fields.Nested(HistoryTask))
    last_contacts = ma.fields.List(ma.fields.Nested(HistoryContact))


CustomerList = page_schema("CrmCustomerList", CustomerOutput)


class CustomerChange(ma.Schema):
    name = Text(max_length=300)
    emails = ma.fields.List(Text(max_length=254), validate=ma.validate.Length(max=50))
    phones = ma.fields.List(Text(max_length=50), validate=ma.validate.Length(max=50))
    owner = Text(max_length=200)
    custom = JsonObject()
    notes = Text(max_length=20000)


class TaskCustomerInput(ma.Schema):
    customer_id = Id(allow_none=True)
    contact_id = Id(allow_none=True)


class TaskHistory(ma.Schema):
    tasks = ma.fields.List(ma.fields.Nested(HistoryTask), metadata={"description": "The customer's other tasks"})
    last_contacts = ma.fields.List(ma.fields.Nested(HistoryContact))


class TaskCustomerOutput(ma.Schema):
    task_id = ma.fields.Integer()
    customer = ma.fields.Nested(CustomerOutput, allow_none=True)
    contact = ma.fields.Nested(CustomerOutput, allow_none=True)
    linked_by = ma.fields.String(allow_none=True)
    history = ma.fields.Nested(TaskHistory, allow_none=True, metadata={
        "description": "Only in GET: the customer's other tasks you may see and the last contacts"})


class WebhookAnswer(ma.Schema):
    status = ma.fields.String(metadata={"description": "applied or duplicate"})


class SyncQuery(ma.Schema):
    full = ma.fields.Boolean(load_default=False, metadata={"description": "A full reconcile instead of the incremental pull"})


class SyncAnswer(ma.Schema):
    counts = ma.fields.Dict()
