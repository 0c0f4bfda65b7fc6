"""`workdesk backup`, `workdesk restore` and `workdesk check`, through real subprocesses, on SQLite and on
PostgreSQL (a database of its own per instance, dumped with pg_dump and restored with pg_restore)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tarfile
import uuid
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import pytest

from .conftest import ROOT


def _cli(instance: Path, env: dict, *args: str, check: bool = True, timeout: int = 120) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, "-m", "workdesk.cli", "--instance", str(instance), *args],
                            capture_output=True, text=True, env=env, timeout=timeout, cwd=str(ROOT))
    if check and result.returncode != 0:
        raise AssertionError(f"workdesk {' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


@pytest.fixture
def env() -> dict:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("WORKDESK_")}
    return {**clean, "PYTHONPATH": str(ROOT), "WORKDESK_PLUGIN_REFRESH_SECONDS": "0"}


@pytest.fixture
def postgres_databases():
    """A function making empty PostgreSQL databases (dropped afterwards): pg_dump takes a whole database."""
    base = os.environ.get("TEST_POSTGRES_URL")
    if not base:
        pytest.skip("PostgreSQL tests need TEST_POSTGRES_URL (set by .ci/run), e.g. postgresql://postgres@127.0.0.1/test")
    import psycopg
    made = []

    def make() -> str:
        name = f"wd_backup_{uuid.uuid4().hex[:10]}"
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        made.append(name)
        return urlunparse(urlparse(base)._replace(path=f"/{name}"))

    yield make
    with psycopg.connect(base, autocommit=True) as conn:
        for name in made:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _instance(tmp_path: Path, name: str, env: dict, database_url: str | None = None) -> Path:
    folder = tmp_path / name
    extra = {"WORKDESK_DATABASE_URL": database_url} if database_url else {}
    _cli(folder, {**env, **extra}, "init", "--admin-email", "boss@example.com", "--admin-password",
         "correct-horse-1", "--demo")
    if database_url:  # the setting belongs in the instance's file, as an operator would write it
        with (folder / "workdesk.toml").open("a") as f:
            f.write(f'database_url = "{database_url}"\n')
    attachments = folder / "attachments" / "2026" / "11"
    attachments.mkdir(parents=True)
    (attachments / "report.pdf").write_bytes(b"%PDF-1.7 " + os.urandom(2048))
    return folder


def _manifest(archive: Path) -> dict:
    with tarfile.open(archive, "r:gz") as opened:
        return json.loads(opened.extractfile("manifest.json").read())


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_backup_and_restore_into_an_empty_instance(tmp_path, env, kind, request):
    source_url = target_url = None
    if kind == "postgresql":
        make = request.getfixturevalue("postgres_databases")
        source_url, target_url = make(), make()
    source = _instance(tmp_path, "source", env, source_url)
    archive = tmp_path / "nightly.tar.gz"

    out = _cli(source, env, "backup", "--output", str(archive)).stdout
    assert f"Backup written to {archive}" in out and "1 files" in out
    assert oct(archive.stat().st_mode & 0o777) == "0o600"
    manifest = _manifest(archive)
    assert manifest["database"] == kind and manifest["tables"]["core_task"] > 100
    assert list(manifest["files"]) == ["files/attachments/2026/11/report.pdf"]

    target = tmp_path / "target"
    if target_url:  # a new instance on an empty database: its own configuration says where the data goes
        target.mkdir()
        secret = [line for line in (source / "workdesk.toml").read_text().splitlines() if "secret_key" in line]
        (target / "workdesk.toml").write_text("\n".join(secret) + f'\ndatabase_url = "{target_url}"\n')
    out = _cli(target, env, "restore", str(archive)).stdout
    assert "the data checks out" in out
    assert (target / "attachments/2026/11/report.pdf").read_bytes() == \
        (source / "attachments/2026/11/report.pdf").read_bytes()
    assert "The data checks out." in _cli(target, env, "check").stdout
    # the restored instance serves its data: the demo people log in with their password
    users = _cli(target, env, "user", "create", "--email", "boss@example.com", "--name", "Boss",
                 "--password", "long-enough-1", check=False)
    assert users.returncode == 2 and "A user with this email exists" in users.stderr

    again = _cli(target, env, "restore", str(archive), check=False)
    assert again.returncode == 2 and "database is not empty" in again.stderr and "Traceback" not in again.stderr


def test_a_backup_taken_while_tasks_are_written_is_consistent(tmp_path, env):
    source = _instance(tmp_path, "busy", env)
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(source)], env=env, cwd=str(ROOT),
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline().strip() == "writing"
        archives = [tmp_path / f"during-{i}.tar.gz" for i in range(3)]
        for archive in archives:
            _cli(source, env, "backup", "--output", str(archive))
    finally:
        writer.terminate()
        writer.wait(timeout=30)
    for i, archive in enumerate(archives):
        target = tmp_path / f"restored-{i}"
        assert "the data checks out" in _cli(target, env, "restore", str(archive)).stdout
    # the tasks kept coming while the backups ran, and each restored copy matched its own snapshot
    assert len({_manifest(a)["tables"]["core_task"] for a in archives}) > 1


WRITER = """
import sys, itertools
from workdesk.app import create_app
from workdesk import services, Department
app = create_app({"instance_path": sys.argv[1]})
with app.app_context():
    department = Department.select().first()
    print("writing", flush=True)
    for i in itertools.count():
        services.tasks.create_task(None, title=f"Written during the backup {i}", department_id=department.id)
"""


def test_backup_and_restore_errors_name_the_fix(tmp_path, env, cli_instance):
    instance = cli_instance.instance
    archive = tmp_path / "one.tar.gz"
    _cli(instance, env, "backup", "--output", str(archive))
    exists = _cli(instance, env, "backup", "--output", str(archive), check=False)
    assert exists.returncode == 2 and "exists already" in exists.stderr
    nowhere = _cli(instance, env, "backup", "--output", str(tmp_path / "no" / "such" / "x.tar.gz"), check=False)
    assert nowhere.returncode == 2 and "does not exist" in nowhere.stderr
    assert not list(tmp_path.glob("**/*.partial"))

    bogus = tmp_path / "bogus.tar.gz"
    bogus.write_bytes(b"not an archive")
    refused = _cli(tmp_path / "empty", env, "restore", str(bogus), check=False)
    assert refused.returncode == 2 and "is not a Workdesk backup" in refused.stderr
    assert not (tmp_path / "empty" / "workdesk.db").exists()

    default = _cli(instance, env, "backup").stdout
    written = Path(default.split("Backup written to ")[1].split(":")[0])
    assert written.parent == instance / "backups" and written.name.startswith("workdesk-backup-")
    second = _cli(instance, env, "backup", "--output", str(tmp_path / "two.tar.gz")).stdout
    assert "backups/" not in json.dumps(_manifest(tmp_path / "two.tar.gz")["files"]), second
