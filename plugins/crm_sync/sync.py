"""Pulling the CRM into Workdesk: upsert by remote id, field ownership, merges, deletions, cursors.

Every page is applied in one transaction together with the cursor after it, so a process killed
mid-page resumes from the last committed cursor and applying a page again changes nothing (each
record carries a version; an older or equal one with the same content is skipped).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from collections import Counter
from typing import Any, Callable, Iterable, Mapping

from peewee import IntegrityError

from workdesk import db, insert_rows, plugin_settings, write_transaction

from .connectors import Connector, CrmError, RemoteRecord, active_connector
from .models import CrmLink, Customer, CustomerEmail, SyncState, TaskCustomer
from .schemas import DEFAULT_OWNERS

Progress = Callable[[int, int | None], None]
STANDING_LIMIT = 5
MERGE_WINDOW = dt.timedelta(days=1)  # how recent a deletion is for a record then taking its email to be its merge
COUNT_KEYS = ("created", "updated", "unchanged", "deleted", "merged")


def settings() -> dict:
    return plugin_settings("crm_sync")


def field_owner(current: Mapping[str, Any], field: str) -> str:
    """``crm``, ``workdesk`` or ``both``: who may change ``field`` (see the ``field_owners`` setting)."""
    return (current.get("field_owners") or {}).get(field, DEFAULT_OWNERS[field])


def conflict_rule(current: Mapping[str, Any], field: str) -> str:
    """For a field both sides change: ``crm_wins`` (default) or ``workdesk_wins``."""
    return (current.get("conflict_rules") or {}).get(field, "crm_wins")


def normal_email(value: str) -> str:
    return value.strip().lower()[:254]


def search_text(name: str, emails: Iterable[str], phones: Iterable[str]) -> str:
    """What ``q`` searches: the name and emails lower-cased, phones as their digits (and as written)."""
    parts = [name.lower(), *(normal_email(e) for e in emails)]
    for phone in phones:
        parts += [phone.lower(), re.sub(r"\D", "", phone)]
    return " | ".join(p for p in parts if p)


def refresh_emails(customer: Customer) -> None:
    """The email rows (what auto-linking matches) follow the customer's emails."""
    wanted = {normal_email(e) for e in customer.emails if "@" in e}
    CustomerEmail.delete().where((CustomerEmail.customer == customer.id)
                                 & CustomerEmail.email.not_in(list(wanted) or [""])).execute()
    for email in sorted(wanted):
        CustomerEmail.insert(customer=customer.id, email=email).on_conflict_ignore().execute()


def _content_hash(record: RemoteRecord) -> str:
    content = [record.name, record.emails, record.phones, record.company_remote_id, record.owner, record.custom]
    return hashlib.sha256(json.dumps(content, sort_keys=True, default=str).encode()).hexdigest()


def _company_id(connector: str, remote_id: str | None) -> int | None:
    if not remote_id:
        return None
    link = CrmLink.get_or_none((CrmLink.connector == connector) & (CrmLink.remote_type == "company")
                               & (CrmLink.remote_id == remote_id))
    return link.customer_id if link is not None else None


def _upsert(connector: Connector, record: RemoteRecord, link: CrmLink | None, current: Mapping[str, Any],
            now: dt.datetime, counts: Counter) -> None:
    digest = _content_hash(record)
    if link is not None and link.merged_into_remote_id:
        counts["unchanged"] += 1  # an old page about a record merged since: the survivor has its links
        return
    if link is not None and not link.deleted and (
            record.version < link.remote_version
            or (record.version == link.remote_version and digest == link.remote_hash)):
        counts["unchanged"] += 1  # a duplicated or out-of-order page
        return
    values = {"name": record.name, "emails": record.emails, "phones": record.phones,
              "company": _company_id(connector.name, record.company_remote_id), "owner": record.owner,
              "custom": record.custom}
    if record.company_remote_id and values["company"] is None:
        digest = ""  # its company is not here yet: the same version seen again is applied again
    if link is None:
        customer = Customer.create(kind=record.remote_type, created_at=now, updated_at=now, **values)
        CrmLink.create(customer=customer, connector=connector.name, remote_type=record.remote_type,
                       remote_id=record.remote_id, remote_version=record.version, remote_hash=digest)
        counts["created"] += 1
    else:
        customer = Customer.get_by_id(link.customer_id)
        gained_emails = {normal_email(e) for e in record.emails} - {normal_email(e) for e in customer.emails}
        gained_phones = {_digits(p) for p in record.phones} - {_digits(p) for p in customer.phones} - {""}
        local_changes = dict(customer.local_changes or {})
        for field, value in values.items():
            owner = field_owner(current, field)
            if owner == "workdesk":
                continue
            if owner == "both" and field in local_changes and conflict_rule(current, field) == "workdesk_wins":
                continue
            setattr(customer, field, value)
            local_changes.pop(field, None)
        customer.local_changes = local_changes
        customer.deleted_at = None  # restored in the CRM
        customer.updated_at = now
        counts["updated" if not link.deleted else "created"] += 1
        link.remote_version, link.remote_hash, link.deleted = record.version, digest, False
        link.save()
    customer.search_text = search_text(customer.name, customer.emails, customer.phones)
    customer.save()
    refresh_emails(customer)
    if link is not None and connector.merges_by_shared_contacts and (gained_emails or gained_phones):
        _absorb_merged_deletions(connector, customer, record.remote_id, gained_emails, gained_phones, now, counts)


def _digits(phone: str) -> str:
    return re.sub(r"\D", "", phone)


def _absorb_merged_deletions(connector: Connector, survivor: Customer, survivor_remote_id: str,
                             emails: set[str], phones: set[str], now: dt.datetime, counts: Counter) -> None:
    """For a CRM that reports a merge only as the loser's deletion, when the deletion came first (event
    handlers keep no order): a record that has just gained the email or phone of a record deleted in the
    last day took it over in a merge, so the deleted customer's task links follow it."""
    deleted = (Customer.select().join(CrmLink, on=(CrmLink.customer == Customer.id)).where(
        (CrmLink.connector == connector.name) & (CrmLink.deleted == True)  # noqa: E712
        & CrmLink.merged_into_remote_id.is_null() & (Customer.kind == survivor.kind) & (Customer.id != survivor.id)
        & Customer.merged_into.is_null() & (Customer.deleted_at >= now - MERGE_WINDOW)).distinct())
    for loser in deleted.order_by(Customer.id):
        if not (emails & {normal_email(e) for e in loser.emails} or phones & {_digits(p) for p in loser.phones}):
            continue
        merge_customers(loser, survivor, now)
        CrmLink.update(merged_into_remote_id=survivor_remote_id).where(
            (CrmLink.customer == survivor.id) & (CrmLink.connector == connector.name)
            & (CrmLink.deleted == True) & CrmLink.merged_into_remote_id.is_null()).execute()  # noqa: E712
        counts["merged"] += 1


def merge_customers(loser: Customer, survivor: Customer, now: dt.datetime) -> None:
    """The CRM merged ``loser`` into ``survivor``: every task link, contact and CRM link follows."""
    if loser.id == survivor.id:
        return
    TaskCustomer.update(customer=survivor.id).where(TaskCustomer.customer == loser.id).execute()
    TaskCustomer.update(contact=survivor.id).where(TaskCustomer.contact == loser.id).execute()
    Customer.update(company=survivor.id).where(Customer.company == loser.id).execute()
    CrmLink.update(customer=survivor.id).where(CrmLink.customer == loser.id).execute()
    Customer.update(merged_into=survivor.id).where(Customer.merged_into == loser.id).execute()
    for row in CustomerEmail.select().where(CustomerEmail.customer == loser.id):
        # the loser's addresses keep finding the survivor until the CRM sends the survivor's own list
        CustomerEmail.insert(customer=survivor.id, email=row.email).on_conflict_ignore().execute()
    CustomerEmail.delete().where(CustomerEmail.customer == loser.id).execute()
    Customer.update(merged_into=survivor.id, deleted_at=now, updated_at=now).where(Customer.id == loser.id).execute()


def _merge(connector: Connector, record: RemoteRecord, link: CrmLink | None, now: dt.datetime,
           counts: Counter) -> None:
    survivor_link = CrmLink.get_or_none((CrmLink.connector == connector.name)
                                        & (CrmLink.remote_type == record.remote_type)
                                        & (CrmLink.remote_id == record.merged_into))
    if link is None:
        counts["unchanged"] += 1  # never seen here: nothing to merge
        return
    if link.merged_into_remote_id == record.merged_into:
        counts["unchanged"] += 1
        return
    if survivor_link is None:
        # the survivor is not here yet: the loser's customer becomes the survivor's, and its next
        # version (any version) overwrites what the CRM owns
        CrmLink.create(customer=link.customer_id, connector=connector.name, remote_type=record.remote_type,
                       remote_id=record.merged_into, remote_version="")
    else:
        merge_customers(Customer.get_by_id(link.customer_id), Customer.get_by_id(survivor_link.customer_id), now)
    CrmLink.update(merged_into_remote_id=record.merged_into, deleted=True,
                   remote_version=max(record.version, link.remote_version)).where(CrmLink.id == link.id).execute()
    counts["merged"] += 1


def _survivor_sharing_contacts(connector: Connector, customer: Customer) -> Customer | None:
    """For a CRM that reports a merge as a deletion: the live record of the same kind that has one of
    the deleted one's emails or phones."""
    emails = [normal_email(e) for e in customer.emails]
    candidates = Customer.select().join(CrmLink, on=(CrmLink.customer == Customer.id)).where(
        (CrmLink.connector == connector.name) & (CrmLink.deleted == False)  # noqa: E712
        & (Customer.kind == customer.kind) & (Customer.id != customer.id) & Customer.deleted_at.is_null())
    by_email = candidates.where(Customer.id.in_(CustomerEmail.select(CustomerEmail.customer)
                                                .where(CustomerEmail.email.in_(emails or [""]))))
    found = by_email.order_by(Customer.id).first()
    if found is None and customer.phones:
        phones = {re.sub(r"\D", "", p) for p in customer.phones} - {""}
        found = next((c for c in candidates.order_by(Customer.id)
                      if phones & {re.sub(r"\D", "", p) for p in c.phones}), None)
    return found


def _delete(connector: Connector, record: RemoteRecord, link: CrmLink | None, now: dt.datetime,
            counts: Counter) -> None:
    if link is None or link.deleted:
        counts["unchanged"] += 1
        return
    customer = Customer.get_by_id(link.customer_id)
    survivor = _survivor_sharing_contacts(connector, customer) if connector.merges_by_shared_contacts else None
    if survivor is not None:
        merge_customers(customer, survivor, now)
        survivor_remote = CrmLink.get((CrmLink.customer == survivor.id) & (CrmLink.connector == connector.name)
                                      & (CrmLink.deleted == False))  # noqa: E712
        CrmLink.update(deleted=True, merged_into_remote_id=survivor_remote.remote_id).where(
            CrmLink.id == link.id).execute()
        counts["merged"] += 1
        return
    CrmLink.update(deleted=True).where(CrmLink.id == link.id).execute()
    # the customer stays (with its task links) marked deleted, unless another CRM record still holds it
    if not CrmLink.select().where((CrmLink.customer == customer.id) & (CrmLink.deleted == False)).exists():  # noqa: E712
        Customer.update(deleted_at=now, updated_at=now).where(Customer.id == customer.id).execute()
    counts["deleted"] += 1


def apply_record(connector: Connector, record: RemoteRecord, current: Mapping[str, Any], now: dt.datetime,
                 counts: Counter) -> None:
    """Apply one CRM record (inside the caller's transaction): matched by remote id, never by email."""
    link = CrmLink.get_or_none((CrmLink.connector == connector.name) & (CrmLink.remote_type == record.remote_type)
                               & (CrmLink.remote_id == record.remote_id))
    if record.merged_into and record.merged_into != record.remote_id:
        _merge(connector, record, link, now, counts)
    elif record.deleted:
        _delete(connector, record, link, now, counts)
    else:
        _upsert(connector, record, link, current, now, counts)


def _create_many(connector: Connector, records: list[RemoteRecord], now: dt.datetime, counts: Counter) -> None:
    """Records the link table has never seen, created with a few multi-row INSERTs (a first sync)."""
    if not records:
        return
    companies = {link.remote_id: link.customer_id for link in CrmLink.select(CrmLink.remote_id, CrmLink.customer).where(
        (CrmLink.connector == connector.name) & (CrmLink.remote_type == "company")
        & CrmLink.remote_id.in_(list({r.company_remote_id for r in records if r.company_remote_id}) or [""]))}
    rows = [{"kind": r.remote_type, "name": r.name, "emails": r.emails, "phones": r.phones,
             "company": companies.get(r.company_remote_id), "owner": r.owner, "custom": r.custom,
             "search_text": search_text(r.name, r.emails, r.phones), "created_at": now, "updated_at": now}
            for r in records]
    # one statement's rows take ascending ids in row order (SQLite's rowid, PostgreSQL's sequence)
    ids = sorted(row[0] for row in insert_rows(Customer, rows, returning=(Customer.id,)))
    insert_rows(CrmLink, [{"customer": customer_id, "connector": connector.name, "remote_type": r.remote_type,
                           "remote_id": r.remote_id, "remote_version": r.version,
                           "remote_hash": "" if r.company_remote_id and r.company_remote_id not in companies
                           else _content_hash(r)}
                          for customer_id, r in zip(ids, records)])
    emails = {(customer_id, normal_email(e)) for customer_id, r in zip(ids, records) for e in r.emails if "@" in e}
    insert_rows(CustomerEmail, [{"customer": customer_id, "email": email} for customer_id, email in sorted(emails)])
    counts["created"] += len(records)


def apply_page(connector: Connector, records: list[RemoteRecord], current: Mapping[str, Any], now: dt.datetime,
               counts: Counter) -> None:
    """Apply a page (inside the caller's transaction): records never seen are created in bulk, the rest
    one by one in the page's order."""
    known = {(link.remote_type, link.remote_id) for link in CrmLink.select(CrmLink.remote_type, CrmLink.remote_id)
             .where((CrmLink.connector == connector.name) & CrmLink.remote_id.in_([r.remote_id for r in records]))}
    repeated = Counter((r.remote_type, r.remote_id) for r in records)
    fresh = [r for r in records if (r.remote_type, r.remote_id) not in known and repeated[(r.remote_type, r.remote_id)] == 1
             and not r.deleted and not r.merged_into]
    for kind in ("company", "contact"):  # companies first: contacts of the same page find theirs
        _create_many(connector, [r for r in fresh if r.remote_type == kind], now, counts)
    created = {id(r) for r in fresh}
    for record in records:
        if id(record) not in created:
            apply_record(connector, record, current, now, counts)


def apply_records(connector: Connector, records: Iterable[RemoteRecord], now: dt.datetime,
                  current: Mapping[str, Any] | None = None) -> Counter:
    """Apply records in one transaction (an inbound webhook's, a lookup's); returns the counts."""
    counts: Counter = Counter()
    current = current or settings()
    with write_transaction():
        for record in records:
            apply_record(connector, record, current, now, counts)
    return counts


# -- the pull -------------------------------------------------------------------------------------

def state_of(connector: str, resource: str) -> SyncState:
    with write_transaction():
        SyncState.insert(connector=connector, resource=resource).on_conflict_ignore().execute()
    return SyncState.get((SyncState.connector == connector) & (SyncState.resource == resource))


def _resource_type(resource: str) -> str:
    return {"contacts": "contact", "companies": "company"}.get(resource, resource)


def pull_resource(connector: Connector, resource: str, now: dt.datetime, full: bool = False,
                  progress: Progress | None = None, current: Mapping[str, Any] | None = None) -> Counter:
    """Pull one resource from the committed cursor (a full reconcile: from the start, then whatever
    the CRM no longer has is handled as deleted or merged). Raises :class:`CrmError` after recording it."""
    current = current or settings()
    state = state_of(connector.name, resource)
    counts: Counter = Counter()
    if full and not state.full_running:
        with write_transaction():
            SyncState.update(full_run=SyncState.full_run + 1, full_running=True, full_cursor=None, progress_done=0,
                             progress_total=None).where(SyncState.id == state.id).execute()
        state = SyncState.get_by_id(state.id)
    elif not full:
        SyncState.update(progress_done=0, progress_total=None).where(SyncState.id == state.id).execute()
    cursor = state.full_cursor if full else state.cursor
    remote_type = _resource_type(resource)
    standing = 0  # pages in a row that brought nothing and did not move the cursor
    try:
        while True:
            page = connector.pull(resource, cursor)
            standing = standing + 1 if (page.has_more and not page.records and page.cursor == cursor) else 0
            if standing >= STANDING_LIMIT:
                raise CrmError(f"the CRM answered the same page {standing} times without moving on")
            with write_transaction():
                apply_page(connector, page.records, current, now, counts)
                if full and page.records:
                    CrmLink.update(seen_run=state.full_run).where(
                        (CrmLink.connector == connector.name) & (CrmLink.remote_type == remote_type)
                        & CrmLink.remote_id.in_([r.remote_id for r in page.records])).execute()
                moved = {SyncState.full_cursor: page.cursor} if full else {SyncState.cursor: page.cursor}
                SyncState.update({**moved, SyncState.progress_done: SyncState.progress_done + len(page.records),
                                  SyncState.progress_total: page.total}).where(SyncState.id == state.id).execute()
            cursor = page.cursor
            if progress is not None:
                progress(len(page.records), page.total)
            if not page.has_more:
                break
        if full:
            with write_transaction():
                gone = list(CrmLink.select().where(
                    (CrmLink.connector == connector.name) & (CrmLink.remote_type == remote_type)
                    & (CrmLink.deleted == False) & (CrmLink.seen_run < state.full_run)))  # noqa: E712
                for link in gone:
                    _delete(connector, RemoteRecord(remote_type, link.remote_id, deleted=True),
                            CrmLink.get_by_id(link.id), now, counts)
                SyncState.update(full_running=False, last_full_at=now, cursor=cursor).where(
                    SyncState.id == state.id).execute()
    except CrmError as exc:
        _finish(state, now, counts, str(exc))
        raise
    _finish(state, now, counts, None)
    return counts


def _finish(state: SyncState, now: dt.datetime, counts: Counter, error: str | None) -> None:
    with write_transaction():
        values: dict = {SyncState.last_run_at: now, SyncState.last_error: error,
                        SyncState.counts: {key: counts.get(key, 0) for key in COUNT_KEYS}}
        if error is None:
            values[SyncState.last_success_at] = now
        SyncState.update(values).where(SyncState.id == state.id).execute()


def pull(now: dt.datetime, full: bool = False, progress: Progress | None = None) -> dict[str, int]:
    """Pull every resource of the configured connector; returns the summed counts. Raises
    :class:`CrmError` (recorded on the resource's state) when the CRM fails."""
    current = settings()
    connector = active_connector(current)
    total: Counter = Counter()
    for resource in connector.resources:
        total.update(pull_resource(connector, resource, now, full, progress, current))
    return {key: total.get(key, 0) for key in COUNT_KEYS}


def full_reconcile_due(now: dt.datetime) -> bool:
    """Whether a full reconcile is due: never done, one in progress, or older than the setting."""
    current = settings()
    states = list(SyncState.select().where(SyncState.connector == current["connector"]))
    if not states:
        return True
    if any(s.full_running for s in states) or any(s.last_full_at is None for s in states):
        return True
    return min(s.last_full_at for s in states) <= now - dt.timedelta(hours=current["full_reconcile_hours"])


def apply_inbound_once(connector: Connector, delivery_id: str, records: list[RemoteRecord],
                       now: dt.datetime) -> bool:
    """Apply an inbound delivery unless its id was seen: the id is stored in the transaction of the
    change, so a repeat (or a concurrent copy) is acknowledged without applying anything. Returns
    whether it was applied."""
    from .models import InboundDelivery
    current = settings()
    with write_transaction():
        try:
            with db.atomic():  # a savepoint: a duplicate id must not abort the whole transaction
                InboundDelivery.create(connector=connector.name, delivery_id=delivery_id, received_at=now)
        except IntegrityError:
            return False
        counts: Counter = Counter()
        for record in records:
            apply_record(connector, record, current, now, counts)
    return True
