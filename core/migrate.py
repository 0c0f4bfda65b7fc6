"""A small versioned migration runner for the core and for each plugin.

A migration package holds modules named ``NNNN_description.py``; each defines
``upgrade(migrator, database)`` using ``playhouse.migrate`` operations (or ``create_tables`` for a
first migration). Each module runs in its own transaction and records its number, so running
``workdesk db upgrade`` twice changes nothing the second time. Migrations only add; they never drop
user data.
"""
from __future__ import annotations

import importlib
import pkgutil
import re
from types import ModuleType

from playhouse.migrate import PostgresqlMigrator, SqliteMigrator

from .db import db, is_sqlite, utcnow, write_transaction
from .models import SchemaVersion

MIGRATION_NAME = re.compile(r"^(\d{4})_\w+$")


class MigrationError(Exception):
    pass


def discover(package: str) -> list[tuple[int, ModuleType]]:
    """Numbered migration modules of ``package`` in order."""
    try:
        pkg = importlib.import_module(package)
    except ModuleNotFoundError as exc:
        if exc.name is not None and package.startswith(exc.name):
            return []  # no migrations package (a broken import inside one is an error to show)
        raise
    found = []
    for info in pkgutil.iter_modules(pkg.__path__):
        match = MIGRATION_NAME.match(info.name)
        if match:
            found.append((int(match.group(1)), importlib.import_module(f"{package}.{info.name}")))
    found.sort(key=lambda pair: pair[0])
    numbers = [n for n, _ in found]
    if numbers != list(range(1, len(numbers) + 1)):
        raise MigrationError(f"migrations of {package} must be numbered 0001, 0002, ... without gaps: {numbers}")
    return found


def current_version(owner: str) -> int:
    SchemaVersion.create_table(safe=True)
    row = SchemaVersion.get_or_none(SchemaVersion.owner == owner)
    return row.version if row else 0


def latest_version(package: str) -> int:
    found = discover(package)
    return found[-1][0] if found else 0


def has_column(database, table: str, column: str) -> bool:
    """Whether ``table`` already has ``column``: a later migration that adds a column to a table which
    ``0001`` creates from the current model uses it, so a fresh install does not add it twice."""
    return any(c.name == column for c in database.get_columns(table))


def migrator():
    return SqliteMigrator(db.obj) if is_sqlite() else PostgresqlMigrator(db.obj)


def upgrade(owner: str, package: str) -> tuple[int, int]:
    """Apply the migrations of ``package`` newer than the recorded version; return (old, new)."""
    old = current_version(owner)
    version = old
    for number, module in discover(package):
        if number <= version:
            continue
        with write_transaction():
            module.upgrade(migrator(), db.obj)
            SchemaVersion.insert(owner=owner, version=number, updated_at=utcnow()).on_conflict(
                conflict_target=[SchemaVersion.owner],
                update={SchemaVersion.version: number, SchemaVersion.updated_at: utcnow()},
            ).execute()
        version = number
    return old, version
