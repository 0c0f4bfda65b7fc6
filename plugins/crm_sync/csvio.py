"""Customers as CSV files: the path for 1C and spreadsheets.

Export goes through the core's one CSV writer (UTF-8 with a byte order mark, every cell that a
spreadsheet would run as a formula prefixed with ``'``). Import reads the same columns back (the
prefix is removed again, so a round trip keeps ``+359…`` and ``=…`` as they were), matches rows by
``external_id`` through the link table (connector ``csv``) and can run as a dry run that lists what
would be created, updated and refused.
"""
from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass, field
from typing import Iterator

from flask_babel import gettext as _

from workdesk import csv_export, utcnow

from .connectors import RemoteRecord
from .connectors.csvfile import CsvConnector
from .models import CrmLink, Customer
from .sync import _content_hash, apply_records, settings

HEADER = ("external_id", "kind", "name", "emails", "phones", "company_external_id", "owner")
SEPARATOR = "; "
MAX_ROWS = 100_000


def _unescape(cell: str) -> str:
    """Undo the writer's formula guard: ``'=x`` was written for ``=x``."""
    if cell.startswith("'") and csv_export.escape_formula(cell[1:]) == cell:
        return cell[1:]
    return cell


def _list(cell: str) -> list[str]:
    return [part.strip() for part in cell.replace(",", ";").split(";") if part.strip()]


def export_rows() -> Iterator[list]:
    """Every live customer as a CSV row (its CSV id if it has one, else its id in the configured CRM)."""
    ids = {link.customer_id: link.remote_id for link in
           CrmLink.select().where((CrmLink.deleted == False)).order_by(CrmLink.connector.desc())}  # noqa: E712
    companies = {}
    for customer in Customer.select().where(Customer.deleted_at.is_null()).order_by(Customer.kind, Customer.id):
        if customer.kind == "company":
            companies[customer.id] = ids.get(customer.id, f"wd-{customer.id}")
        yield [ids.get(customer.id, f"wd-{customer.id}"), customer.kind, customer.name, SEPARATOR.join(customer.emails),
               SEPARATOR.join(customer.phones), companies.get(customer.company_id, ""), customer.owner]


def export_lines() -> Iterator[str]:
    return csv_export.csv_lines(HEADER, export_rows())


@dataclass
class ImportPlan:
    """What an import does (or, in a dry run, would do)."""
    create: list[dict] = field(default_factory=list)
    update: list[dict] = field(default_factory=list)
    unchanged: int = 0
    refused: list[dict] = field(default_factory=list)  # {"line", "external_id", "reason"}
    applied: bool = False

    def summary(self) -> dict:
        return {"create": len(self.create), "update": len(self.update), "unchanged": self.unchanged,
                "refused": len(self.refused), "applied": self.applied}


def read_records(data: bytes, plan: ImportPlan) -> list[tuple[int, RemoteRecord]]:
    """The file's rows as records; refused rows go to ``plan.refused`` with their line and reason."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        plan.refused.append({"line": 0, "external_id": "", "reason": _("The file is not UTF-8 text.")})
        return []
    reader = csv.DictReader(io.StringIO(text))
    missing = [column for column in ("external_id", "name") if column not in (reader.fieldnames or [])]
    if missing:
        plan.refused.append({"line": 1, "external_id": "", "reason": _(
            "The header lacks the columns %(columns)s.", columns=", ".join(missing))})
        return []
    records, seen = [], set()
    for number, row in enumerate(reader, start=2):
        if number > MAX_ROWS + 1:
            plan.refused.append({"line": number, "external_id": "", "reason": _(
                "Only the first %(count)d rows are read.", count=MAX_ROWS)})
            break
        cells = {key: _unescape((value or "").strip()) for key, value in row.items() if isinstance(key, str)}
        external_id, kind = cells.get("external_id", "")[:100], (cells.get("kind") or "contact").lower()
        reason = None
        if not external_id:
            reason = _("The external_id is empty.")
        elif (kind, external_id) in seen:
            reason = _("The external_id appears twice in the file.")
        elif kind not in ("company", "contact"):
            reason = _("The kind must be company or contact.")
        elif not cells.get("name"):
            reason = _("The name is empty.")
        elif any("@" not in email for email in _list(cells.get("emails", ""))):
            reason = _("An email address has no @.")
        elif "\x00" in "".join(cells.values()):
            reason = _("The row contains a NUL character.")
        if reason is not None:
            plan.refused.append({"line": number, "external_id": external_id, "reason": reason})
            continue
        seen.add((kind, external_id))
        records.append((number, RemoteRecord(
            remote_type=kind, remote_id=external_id, version="", name=cells["name"][:300],
            emails=_list(cells.get("emails", "")), phones=_list(cells.get("phones", "")),
            company_remote_id=cells.get("company_external_id") or None, owner=cells.get("owner", "")[:200])))
    return records


def import_csv(data: bytes, dry_run: bool = True) -> ImportPlan:
    """Plan (and unless ``dry_run``, apply) an import: rows matched by ``external_id``, companies first."""
    plan = ImportPlan()
    records = read_records(data, plan)
    links = {(link.remote_type, link.remote_id): link for link in
             CrmLink.select().where(CrmLink.connector == CsvConnector.name)}
    for number, record in records:
        link = links.get((record.remote_type, record.remote_id))
        entry = {"line": number, "external_id": record.remote_id, "name": record.name}
        if link is None or link.deleted:
            plan.create.append(entry)
        elif link.remote_hash != _content_hash(record):
            plan.update.append(entry)
        else:
            plan.unchanged += 1
    if not dry_run and records:
        ordered = sorted((r for _n, r in records), key=lambda r: r.remote_type != "company")
        counts: Counter = apply_records(CsvConnector(settings()), ordered, utcnow())
        plan.applied = bool(counts)
    return plan
