"""Connectors: the small interface between the sync and one CRM.

A connector is a class deriving from :class:`Connector`, returned by a plugin's
``register_crm_connectors`` hook (this plugin registers its three the same way a third party does).
It turns the CRM's records into :class:`RemoteRecord` values and back; the sync does everything else
(matching by remote id, field ownership, merges, deletions, cursors, retries). Every request goes
through :class:`CrmHttp`: the core's outbound guard, the configured rate limit, ``Retry-After``.
"""
from __future__ import annotations

import datetime as dt
import email.utils
import http.client
import logging
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Mapping
from urllib.parse import urlsplit

from workdesk import get_registry, outbound

log = logging.getLogger("workdesk.plugins.crm_sync")
MAX_RESPONSE_BYTES = 20 * 1024 * 1024
BACKOFF_SECONDS = 0.5  # the first retry's wait inside one run; doubled after each failure
MAX_RETRY_AFTER_SECONDS = 120.0  # a longer wait ends the run; the next run resumes from the cursor
LOOKUP_ATTEMPTS = 1  # a lookup runs as a task is filed: a CRM that fails is no answer, not minutes of retries


class CrmError(Exception):
    """The CRM could not be reached or answered with an error worth retrying later."""


class PermanentCrmError(CrmError):
    """A failure retrying cannot fix (a refused destination, a 4xx answer, a missing setting)."""


class InboundRefused(Exception):
    """An inbound delivery whose signature or token does not verify: answered 401, nothing applied."""


@dataclass
class RemoteRecord:
    """A company or contact as the CRM describes it.

    ``version`` is sortable text: a newer version of a record compares greater (connectors zero-pad
    numbers and write instants as UTC ISO text), so a duplicated or out-of-order page changes nothing.
    ``deleted`` marks a record the CRM deleted; ``merged_into`` the remote id of the record the CRM
    merged this one into.
    """
    remote_type: str
    remote_id: str
    version: str = ""
    name: str = ""
    emails: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)
    company_remote_id: str | None = None
    owner: str = ""
    custom: dict[str, Any] = field(default_factory=dict)
    deleted: bool = False
    merged_into: str | None = None


@dataclass
class Page:
    """One page of changes: the records, the cursor after them, whether more follow."""
    records: list[RemoteRecord]
    cursor: str | None
    has_more: bool
    total: int | None = None


@dataclass
class Activity:
    """What the team did, for the CRM's timeline of the customer behind ``remote_id``."""
    kind: str  # created, resolved, commented
    subject: str
    body: str
    remote_type: str
    remote_id: str
    task_id: int | None = None
    task_url: str = ""


@dataclass
class InboundEvent:
    """A verified inbound delivery: its id (to apply it once) and the records it changes."""
    delivery_id: str
    records: list[RemoteRecord]


class Connector:
    """The interface of a CRM connector; subclass it and return the class from ``register_crm_connectors``.

    :cvar name: short unique name, the value of the ``connector`` setting (``bitrix24``).
    :cvar label: shown in the admin panel (a lazy gettext text, or plain text).
    :cvar resources: the resources pulled, in order (companies before contacts, so contacts find theirs).
    :cvar can_push: whether :meth:`push_activity` sends anything.
    :cvar merges_by_shared_contacts: the CRM reports a merge only as the loser's deletion (Bitrix24): a
        deleted record whose email or phone a surviving record now has is treated as merged into it.
    """
    name = ""
    label = ""
    resources: tuple[str, ...] = ("companies", "contacts")
    can_push = True
    merges_by_shared_contacts = False

    def __init__(self, settings: Mapping[str, Any]):
        self.settings = settings

    def pull(self, resource: str, cursor: str | None) -> Page:
        """The changes of ``resource`` after ``cursor`` (None: from the beginning), one page."""
        raise PermanentCrmError(f"the {self.name} connector cannot pull")

    def push_activity(self, activity: Activity, idempotency_key: str) -> str:
        """Send ``activity``; a repeat with the same key must not create a second one. Returns its remote id."""
        raise PermanentCrmError(f"the {self.name} connector cannot push activities")

    def lookup(self, email: str | None = None, phone: str | None = None) -> list[RemoteRecord]:
        """The contacts with this email or phone. Called while a task is filed or linked: one attempt
        (``LOOKUP_ATTEMPTS``), no retries; raise :class:`CrmError` when the CRM fails."""
        return []

    def verify_inbound(self, headers: Mapping[str, str], body: bytes, form: Mapping[str, str],
                       now: float) -> InboundEvent:
        """Check an inbound delivery (raise :class:`InboundRefused`) and say what it changes."""
        raise InboundRefused(f"the {self.name} connector takes no webhooks")


def connector_classes(enabled_only: bool = True) -> dict[str, type[Connector]]:
    """Every registered connector class by name (those of enabled plugins, or of every installed one)."""
    found: dict[str, type[Connector]] = {}
    for _plugin, item in get_registry().collect("register_crm_connectors", enabled_only):
        if isinstance(item, type) and issubclass(item, Connector) and item.name and item.name not in found:
            found[item.name] = item
    return found


def connector_choices() -> dict[str, str]:
    """What the ``connector`` setting may name, with labels: the built-in connectors, then those every
    installed plugin registers (a disabled plugin's too, so its stored choice stays readable)."""
    choices = {cls.name: cls.label for cls in BUILTIN_CONNECTORS}
    try:
        registered = connector_classes(enabled_only=False)
    except RuntimeError:  # no registry yet (the schema read at import time): the built-in ones
        registered = {}
    for name, cls in registered.items():
        choices.setdefault(name, cls.label or name)
    return choices


class ConnectorMissing(PermanentCrmError):
    """The chosen connector's plugin was uninstalled or disabled: nothing is synced (never another
    connector in its place) until the plugin is back or another connector is chosen."""

    def __init__(self, name: str, installed: bool):
        self.name = name
        self.installed = installed
        super().__init__(missing_connector_message(name, installed))


def missing_connector_message(name: str, installed: bool) -> str:
    """What the admin panel, the job's error and ``workdesk crm_sync pull`` say about a missing connector."""
    from flask_babel import gettext as _
    if installed:
        return _("The connector %(name)s belongs to a disabled plugin, so nothing is synced. Enable that plugin, "
                 "or choose another connector in the admin panel (Plugins, crm_sync, Settings).", name=name)
    return _("The connector %(name)s is not installed any more (its plugin was uninstalled), so nothing is "
             "synced. Re-install the plugin that provides it, or choose another connector in the admin panel "
             "(Plugins, crm_sync, Settings).", name=name)


def missing_connector(settings: Mapping[str, Any] | None = None) -> ConnectorMissing | None:
    """The chosen connector (in ``settings``, default: the stored ones) when no enabled plugin provides
    it, else None: its plugin is disabled, or uninstalled (then the settings keep naming it, see
    ``schemas._default_connector``, instead of reading as the default ``csv``)."""
    if settings is None:
        from workdesk import plugin_settings
        settings = plugin_settings("crm_sync")
    chosen = settings.get("connector")
    if chosen and chosen not in available_connectors():
        return ConnectorMissing(chosen, chosen in connector_classes(enabled_only=False))
    return None


def active_connector(settings: Mapping[str, Any]) -> Connector:
    """The connector the settings name, ready to use; :class:`ConnectorMissing` when its plugin is gone."""
    missing = missing_connector(settings)
    if missing is not None:
        raise missing
    return available_connectors()[settings["connector"]](settings)


def available_connectors() -> dict[str, type[Connector]]:
    """The connectors that can run: the built-in ones (this plugin's own, also while it is being enabled)
    and those of enabled plugins."""
    return {**{cls.name: cls for cls in BUILTIN_CONNECTORS}, **connector_classes()}


# -- HTTP --------------------------------------------------------------------------------------

_pace_lock = threading.Lock()
_last_request: dict[str, float] = {}


def retry_after_seconds(value: str | None) -> float | None:
    """``Retry-After`` as seconds: a number or an HTTP date (RFC 9110); None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    return max(0.0, (when - dt.datetime.now(dt.timezone.utc)).total_seconds())


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes


class CrmHttp:
    """Requests to the configured CRM: through the outbound guard, paced to the rate limit, retrying
    429/503 after ``Retry-After`` and 5xx or timeouts with exponential backoff.

    Error messages name the host only: a URL may carry a secret (Bitrix24's webhook code).
    """

    def __init__(self, settings: Mapping[str, Any], attempts: int = 5, backoff_seconds: float | None = None,
                 limited: tuple[str, ...] = ()):
        self.timeout = settings["timeout_seconds"]
        self.allow_private = settings["allow_private_destinations"]
        self.min_interval = 1.0 / settings["rate_limit_per_second"]
        self.attempts = attempts
        self.backoff_seconds = BACKOFF_SECONDS if backoff_seconds is None else backoff_seconds
        self.limited = limited  # error codes in a body that mean "slow down" (Bitrix24: QUERY_LIMIT_EXCEEDED)

    def _pace(self, host: str) -> None:
        with _pace_lock:
            wait = _last_request.get(host, 0.0) + self.min_interval - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            _last_request[host] = time.monotonic()

    def request(self, method: str, url: str, body: bytes | None = None,
                headers: Mapping[str, str] | None = None, attempts: int | None = None) -> Response:
        """One request, retried up to ``attempts`` times (default: the client's); pass 1 for a call that
        is not safe to repeat blindly (the caller checks what happened before trying again)."""
        attempts = attempts or self.attempts
        parts = urlsplit(url)
        host = parts.hostname or "?"
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        problem = ""
        for attempt in range(1, attempts + 1):
            self._pace(host)
            wait = self.backoff_seconds * 2 ** (attempt - 1)
            try:
                connection = outbound.guarded_connection(
                    url, self.timeout, self.allow_private,
                    setting="allow_private_destinations in the crm_sync settings")
            except outbound.DestinationRefused as exc:
                raise PermanentCrmError(str(exc)) from None
            except outbound.DestinationUnresolved as exc:
                problem = str(exc)
                if attempt < attempts:
                    time.sleep(wait)
                continue
            try:
                connection.request(method, path, body=body, headers=dict(headers or {}))
                answer = connection.getresponse()
                data = answer.read(MAX_RESPONSE_BYTES)
                response = Response(answer.status, {k.lower(): v for k, v in answer.getheaders()}, data)
            except (OSError, http.client.HTTPException) as exc:
                problem = f"{type(exc).__name__} from {host}"
                if attempt < attempts:
                    time.sleep(wait)
                continue
            finally:
                connection.close()
            limited = response.status == 429 or (response.status == 503 and any(
                code.encode() in response.body for code in self.limited))
            if not limited and response.status < 500:
                return response
            problem = f"{host} answered {response.status}"
            told = retry_after_seconds(response.headers.get("retry-after")) if limited or response.status == 503 \
                else None
            if told is not None and told > MAX_RETRY_AFTER_SECONDS:
                raise CrmError(f"{host} asks to wait {told:.0f} s (Retry-After); the next run resumes")
            if attempt < attempts:
                time.sleep(told if told is not None else wait)
        log.warning("CRM request failed after %d attempts: %s", attempts, problem)
        raise CrmError(f"{problem} ({attempts} attempts)")


from .bitrix24 import Bitrix24Connector  # noqa: E402 - the built-in connectors use the names above
from .csvfile import CsvConnector  # noqa: E402
from .generic import GenericConnector  # noqa: E402

BUILTIN_CONNECTORS = (GenericConnector, Bitrix24Connector, CsvConnector)
