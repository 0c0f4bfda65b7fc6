"""``workdesk backup`` and ``workdesk restore``: one archive holding a consistent copy of the database, the
instance's files (attachments and anything plugins keep there) and its configuration.

The database is copied while Workdesk runs: SQLite through its online backup API (a consistent
snapshot, written pages retried), PostgreSQL through ``pg_dump`` bound to a snapshot this module
exports, in whose transaction the rows of every table are also counted. Those counts go into the
archive's manifest, and a restore compares the restored database with them before it reports success.

The database is copied before the files: a file added during the backup may be in the archive
without its row (harmless), never a row without its file unless the file was deleted meanwhile.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from glob import glob
from pathlib import Path
from typing import Iterator
from urllib.parse import urlparse

import peewee

from .db import db, is_sqlite
from .files import PRIVATE_FILE_MODE, make_private_folder, sqlite_file

FORMAT = 1
MANIFEST = "manifest.json"
CONFIG = "workdesk.toml"
SQLITE_DUMP = "database.sqlite"
POSTGRES_DUMP = "database.pgdump"
FILES = "files"
BACKUP_FOLDER = "backups"


class BackupError(Exception):
    """A backup or restore cannot be made; the message says why and what to do."""


@dataclass(frozen=True)
class BackupResult:
    path: Path
    tables: int
    rows: int
    files: int


@dataclass(frozen=True)
class RestoreResult:
    tables: int
    rows: int
    files: int
    problems: list[str]


# -- finding what to copy -----------------------------------------------------------------------

def _database_files(settings: dict) -> set[Path]:
    """The instance's SQLite files (database and queue, with their journals): copied by the API, not as files."""
    found = set()
    for key in ("database_url", "queue_url"):
        path = sqlite_file(settings[key]) or sqlite_file(settings[key], strip_leading_slash=False)
        if path is not None:
            path = path.resolve() if path.is_absolute() else (Path.cwd() / path).resolve()
            found |= {path, Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal")}
    return found


def instance_files(settings: dict) -> Iterator[tuple[Path, str]]:
    """``(path, name in the archive)`` of every file of the instance folder worth keeping: attachments and
    whatever plugins store, but not the databases (copied consistently apart), the configuration (kept
    apart), earlier backups or sockets."""
    root = Path(settings["instance_path"]).resolve()
    skipped = _database_files(settings) | {root / CONFIG}
    for folder, subfolders, names in os.walk(root):
        here = Path(folder)
        if here == root and BACKUP_FOLDER in subfolders:
            subfolders.remove(BACKUP_FOLDER)
        subfolders.sort()
        for name in sorted(names):
            path = here / name
            if path.resolve() in skipped or not path.is_file() or path.is_symlink():
                continue
            yield path, f"{FILES}/{path.relative_to(root).as_posix()}"


def _table_counts() -> dict[str, int]:
    return {table: db.execute_sql(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0] for table in sorted(db.get_tables())}


def _sqlite_counts(path: Path) -> dict[str, int]:
    connection = sqlite3.connect(path)
    try:
        tables = [row[0] for row in connection.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
        return {table: connection.execute(f'SELECT COUNT(*) FROM "{table}"').fetchone()[0] for table in tables}
    finally:
        connection.close()


def postgres_tool(name: str) -> str:
    """The path of ``pg_dump`` or ``pg_restore``: on the PATH, else in Debian's versioned folders."""
    found = shutil.which(name) or next(iter(sorted(glob(f"/usr/lib/postgresql/*/bin/{name}"), reverse=True)), None)
    if found is None:
        raise BackupError(f"{name} was not found. Install PostgreSQL's client programs (Debian: "
                          f"apt-get install postgresql-client) or put {name} on the PATH.")
    return found


def _postgres_url(settings: dict) -> str:
    return settings["database_url"].replace("postgres://", "postgresql://", 1)


def _run(command: list[str], what: str) -> None:
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode != 0:
        detail = (done.stderr or done.stdout).strip().splitlines()
        raise BackupError(f"{what} failed: {detail[-1] if detail else 'exit status ' + str(done.returncode)}")


# -- backup -------------------------------------------------------------------------------------

def default_backup_path(settings: dict, now: dt.datetime) -> Path:
    folder = Path(settings["instance_path"]) / BACKUP_FOLDER
    make_private_folder(folder)
    return folder / f"workdesk-backup-{now.strftime('%Y%m%dT%H%M%SZ')}.tar.gz"


def make_backup(settings: dict, output: Path, now: dt.datetime) -> BackupResult:
    """Write the archive to ``output`` (mode 0600; refused if it exists). Nothing is left behind on failure."""
    from . import __version__
    if output.exists():
        raise BackupError(f"{output} exists already. Choose another --output, or remove that file.")
    if not output.parent.is_dir():
        raise BackupError(f"The folder {output.parent} does not exist. Create it, or choose another --output.")
    with tempfile.TemporaryDirectory(prefix="workdesk-backup-") as work:
        work_path = Path(work)
        if is_sqlite():
            kind, dump = "sqlite", work_path / SQLITE_DUMP
            source = sqlite3.connect(db.obj.database)
            target = sqlite3.connect(dump)
            try:
                source.backup(target)  # the online backup API: a consistent copy while others write
            finally:
                target.close()
                source.close()
            counts = _sqlite_counts(dump)
        else:
            kind, dump = "postgresql", work_path / POSTGRES_DUMP
            counts = _postgres_dump(settings, dump)
        versions = _schema_versions()
        files = list(instance_files(settings))
        manifest = {
            "format": FORMAT, "workdesk": __version__, "created_at": now.isoformat(), "database": kind,
            "tables": counts, "schema": versions,
            "files": {name: _sha256(path) for path, name in files},
        }
        partial = output.with_name(output.name + ".partial")
        fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE_MODE)
        try:
            with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as archive:
                _add_bytes(archive, MANIFEST, json.dumps(manifest, indent=2, sort_keys=True).encode())
                archive.add(dump, arcname=dump.name)
                config = Path(settings["instance_path"]) / CONFIG
                if config.is_file():
                    archive.add(config, arcname=CONFIG)
                for path, name in files:
                    archive.add(path, arcname=name)
            os.replace(partial, output)
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
    return BackupResult(output, len(counts), sum(counts.values()), len(files))


def _postgres_dump(settings: dict, dump: Path) -> dict[str, int]:
    """``pg_dump`` of the snapshot in which the rows are counted, so the manifest describes the dump exactly."""
    pg_dump = postgres_tool("pg_dump")
    with db.atomic():
        db.execute_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        snapshot = db.execute_sql("SELECT pg_export_snapshot()").fetchone()[0]
        counts = _table_counts()
        # the snapshot lives as long as this transaction: pg_dump runs inside it
        _run([pg_dump, "--format=custom", "--no-owner", "--no-privileges", f"--snapshot={snapshot}",
              f"--file={dump}", _postgres_url(settings)], "pg_dump")
    return counts


def _schema_versions() -> dict[str, int]:
    from .models import SchemaVersion
    return {row.owner: row.version for row in SchemaVersion.select()}


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _add_bytes(archive: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mode = len(data), PRIVATE_FILE_MODE
    archive.addfile(info, io.BytesIO(data))


# -- restore ------------------------------------------------------------------------------------

def read_manifest(archive_path: Path) -> dict:
    try:
        with tarfile.open(archive_path, "r:gz") as archive:
            member = archive.extractfile(MANIFEST)
            manifest = json.loads(member.read()) if member else None
    except (OSError, tarfile.TarError, KeyError, ValueError):
        manifest = None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{archive_path} is not a Workdesk backup (no readable manifest of format {FORMAT}).")
    return manifest


def install_config(archive_path: Path, root: Path) -> None:
    """Give an instance folder without ``workdesk.toml`` the backup's (its secret key and settings)."""
    if (root / CONFIG).is_file():
        return
    read_manifest(archive_path)
    with tarfile.open(archive_path, "r:gz") as archive:
        try:
            member = archive.extractfile(CONFIG)
        except KeyError:
            member = None
        if member is None:
            raise BackupError(f"The backup holds no {CONFIG} and {root} has none: run `workdesk init` there first.")
        make_private_folder(root)
        fd = os.open(root / CONFIG, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE_FILE_MODE)
        with os.fdopen(fd, "wb") as f:
            f.write(member.read())


def restore_backup(settings: dict, archive_path: Path) -> RestoreResult:
    """Bring a backup into this instance, whose database must be empty (no tables). The instance's own
    configuration decides where the data goes (:func:`install_config` gives a new folder the backup's)."""
    manifest = read_manifest(archive_path)
    kind = "sqlite" if is_sqlite() else "postgresql"
    if manifest["database"] != kind:
        raise BackupError(f"This backup holds a {manifest['database']} database but the instance is configured "
                          f"for {kind}. Restore it into an instance whose database_url is {manifest['database']}.")
    if db.get_tables():
        raise BackupError("The instance's database is not empty. Restore into a new, empty database (a new "
                          "instance folder, or an empty PostgreSQL database in database_url).")
    root = Path(settings["instance_path"])
    with tempfile.TemporaryDirectory(prefix="workdesk-restore-") as work, tarfile.open(archive_path, "r:gz") as archive:
        work_path = Path(work)
        names = set(archive.getnames())
        for name in names:
            if name.startswith("/") or ".." in Path(name).parts:
                raise BackupError(f"The backup holds an unsafe path {name!r}; it was not made by Workdesk.")
        archive.extractall(work_path, filter="data")
        if kind == "sqlite":
            _restore_sqlite(work_path / SQLITE_DUMP)
        else:
            _run([postgres_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error",
                  f"--dbname={_postgres_url(settings)}", str(work_path / POSTGRES_DUMP)], "pg_restore")
        restored_files = 0
        for name in sorted(manifest.get("files", {})):
            source, target = work_path / name, root / Path(name).relative_to(FILES)
            make_private_folder(target.parent)
            shutil.copyfile(source, target)
            os.chmod(target, PRIVATE_FILE_MODE)
            restored_files += 1
    problems = check_restored(manifest, root)
    counts = manifest["tables"]
    return RestoreResult(len(counts), sum(counts.values()), restored_files, problems)


def _restore_sqlite(dump: Path) -> None:
    """Copy the backup's pages into the (empty) configured database through the backup API, on the
    open connection, so every process and journal mode sees one consistent file."""
    source = sqlite3.connect(dump)
    try:
        source.backup(db.connection())
    finally:
        source.close()


def check_restored(manifest: dict, root: Path) -> list[str]:
    """What differs between the restored instance and the manifest; empty when it is whole."""
    problems = []
    counts = _table_counts()
    for table, expected in sorted(manifest["tables"].items()):
        if counts.get(table) != expected:
            problems.append(f"table {table}: {counts.get(table, 'missing')} rows, the backup had {expected}")
    for name, digest in sorted(manifest.get("files", {}).items()):
        path = root / Path(name).relative_to(FILES)
        if not path.is_file() or _sha256(path) != digest:
            problems.append(f"file {name}: missing or different from the backup")
    problems.extend(check_data())
    return problems


def check_data() -> list[str]:
    """Checks of the data's own consistency: the database's integrity, and every task with its audit row."""
    problems = []
    if is_sqlite():
        result = db.execute_sql("PRAGMA integrity_check").fetchone()[0]
        if result != "ok":
            problems.append(f"SQLite integrity check: {result}")
        broken = db.execute_sql("PRAGMA foreign_key_check").fetchall()
        if broken:
            problems.append(f"{len(broken)} rows point at rows that do not exist")
    from .models import Task, TaskEvent
    try:
        orphaned = (Task.select().where(~Task.id.in_(TaskEvent.select(TaskEvent.task_id)
                                                     .where(TaskEvent.kind == "created"))).count())
    except peewee.DatabaseError as exc:
        return problems + [f"the tasks could not be read: {exc}"]
    if orphaned:
        problems.append(f"{orphaned} tasks have no 'created' audit entry")
    return problems


def postgres_database_name(url: str) -> str:
    return urlparse(url).path.lstrip("/")
