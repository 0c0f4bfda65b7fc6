"""Every file Workdesk creates in the instance folder is private (0600): the config with the secret key,
the databases with password hashes and tasks, and their -wal/-shm files, whatever the umask."""
from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from workdesk.files import create_private_file, prepare_sqlite_file, sqlite_file, write_private_file


@pytest.fixture
def usual_umask():
    """The common 022 umask, under which SQLite alone would create 0644 files."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def modes(folder: Path) -> dict[str, str]:
    return {p.name: oct(stat.S_IMODE(p.stat().st_mode)) for p in sorted(folder.iterdir()) if p.is_file()}


def test_workdesk_init_creates_every_file_0600(usual_umask, cli_instance):
    instance = cli_instance.instance
    cli_instance("tick")  # opens the queue too
    found = modes(instance)
    assert {"workdesk.toml", "workdesk.db", "queue.db"} <= set(found)
    assert found == {name: "0o600" for name in found}
    assert oct(stat.S_IMODE(instance.stat().st_mode)) == "0o700"  # a folder init made is private as well


def test_the_app_and_the_worker_create_new_databases_0600(usual_umask, tmp_path):
    from workdesk import create_app
    from workdesk.app import init_runtime
    from workdesk.config import load_settings
    from workdesk.db import db
    from workdesk.queue import queue
    from workdesk.schema import upgrade_all
    folder = tmp_path / "fresh"
    folder.mkdir()
    config = {"instance_path": str(folder), "secret_key": "x" * 32,
              "database_url": f"sqlite:///{folder / 'app.db'}", "queue_url": f"sqlite://{folder / 'jobs.db'}"}
    app = create_app(config)
    upgrade_all(app.extensions["workdesk_registry"])
    assert app.test_client().get("/healthz").status_code == 200
    queue.storage.enqueue(b"probe")  # the queue writes its file
    assert modes(folder) == {name: "0o600" for name in modes(folder)}
    assert {"app.db", "app.db-wal", "app.db-shm", "jobs.db"} <= set(modes(folder))
    db.close()

    worker_folder = tmp_path / "worker"
    worker_folder.mkdir()
    settings = load_settings(worker_folder, overrides={
        "secret_key": "x" * 32, "database_url": f"sqlite:///{worker_folder / 'w.db'}",
        "queue_url": f"sqlite://{worker_folder / 'q.db'}"})
    init_runtime(settings)  # what `workdesk worker` does first
    queue.storage.enqueue(b"probe")
    db.connect(reuse_if_open=True)
    db.execute_sql("CREATE TABLE probe (id INTEGER)")
    assert set(modes(worker_folder)) >= {"w.db", "q.db"}
    assert modes(worker_folder) == {name: "0o600" for name in modes(worker_folder)}
    db.close()


def test_the_helpers(usual_umask, tmp_path):
    target = tmp_path / "secret.txt"
    write_private_file(target, "hush")
    assert target.read_text() == "hush" and oct(stat.S_IMODE(target.stat().st_mode)) == "0o600"
    target.chmod(0o644)
    write_private_file(target, "again")  # an existing file is narrowed when rewritten
    assert oct(stat.S_IMODE(target.stat().st_mode)) == "0o600"
    assert create_private_file(tmp_path / "new") is True and create_private_file(tmp_path / "new") is False
    assert sqlite_file("sqlite:///:memory:") is None and sqlite_file("postgresql://x/y") is None
    assert sqlite_file(f"sqlite:///{tmp_path}/a.db") == tmp_path / "a.db"
    prepare_sqlite_file(f"sqlite:///{tmp_path}/b.db")
    assert oct(stat.S_IMODE((tmp_path / "b.db").stat().st_mode)) == "0o600"
