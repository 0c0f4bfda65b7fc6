"""Versioned migrations: safe to run twice, additive, per owner, on both databases."""
import datetime as dt
import sys

import pytest

from workdesk import migrate
from workdesk.db import db
from workdesk.models import Role, SchemaVersion, Task
from workdesk.registry import get_registry
from workdesk.schema import upgrade_all
from workdesk.services import tasks

pytestmark = pytest.mark.parametrize("workdesk_database", ["sqlite", "postgresql"], indirect=True)
# Later core migrations run after the one a test is about: the upgrade ends at the newest.
LATEST = migrate.latest_version("workdesk.migrations")


def test_upgrade_twice_changes_nothing_and_keeps_data(workdesk_app, make_department, make_user):
    dept = make_department()
    agent = make_user("agent", departments=[dept])
    tasks.create_task(agent, title="keep me", department_id=dept.id)
    Role.update(permissions=["task.create"]).where(Role.name == "requester").execute()  # an admin's edit
    versions = {row.owner: row.version for row in SchemaVersion.select()}
    second = upgrade_all(get_registry())
    assert all(old == new for old, new in second.values())
    assert {row.owner: row.version for row in SchemaVersion.select()} == versions
    assert Task.get().title == "keep me"
    assert Role.get(Role.name == "requester").permissions == ["task.create"]  # seeding never overwrites


@pytest.fixture
def migration_package(tmp_path, monkeypatch):
    package = tmp_path / "demo_migrations"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "0001_create.py").write_text(
        "def upgrade(migrator, database):\n"
        "    database.execute_sql('CREATE TABLE demo_note (id INTEGER PRIMARY KEY, body TEXT)')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    yield package
    for name in [m for m in sys.modules if m.startswith("demo_migrations")]:
        del sys.modules[name]


def test_a_later_migration_adds_a_column_without_touching_rows(workdesk_app, migration_package):
    assert migrate.upgrade("demo", "demo_migrations") == (0, 1)
    db.execute_sql("INSERT INTO demo_note (id, body) VALUES (1, 'hello')")
    (migration_package / "0002_add_colour.py").write_text(
        "from peewee import CharField\n"
        "from playhouse.migrate import migrate\n"
        "def upgrade(migrator, database):\n"
        "    migrate(migrator.add_column('demo_note', 'colour', CharField(default='blue')))\n")
    assert migrate.upgrade("demo", "demo_migrations") == (1, 2)
    assert migrate.upgrade("demo", "demo_migrations") == (2, 2)
    assert db.execute_sql("SELECT body, colour FROM demo_note").fetchall() == [("hello", "blue")]


def test_a_failing_migration_leaves_the_previous_version(workdesk_app, migration_package):
    (migration_package / "0002_broken.py").write_text(
        "def upgrade(migrator, database):\n"
        "    database.execute_sql('CREATE TABLE demo_half (id INTEGER PRIMARY KEY)')\n"
        "    raise RuntimeError('boom')\n")
    with pytest.raises(RuntimeError):
        migrate.upgrade("demo", "demo_migrations")
    assert migrate.current_version("demo") == 1
    assert "demo_half" not in db.get_tables()


def test_gaps_in_numbering_are_refused(workdesk_app, migration_package):
    (migration_package / "0003_skip.py").write_text("def upgrade(migrator, database):\n    pass\n")
    with pytest.raises(migrate.MigrationError, match="without gaps"):
        migrate.upgrade("demo", "demo_migrations")


def test_core_0002_adds_saved_views_absences_and_view_share_to_an_older_database(workdesk_app, make_user):
    from workdesk.models import Absence, SavedView
    db.obj.drop_tables([SavedView, Absence])  # a database the 1.0 core made
    SchemaVersion.update(version=1).where(SchemaVersion.owner == "core").execute()
    Role.update(permissions=["task.create", "task.comment"]).where(Role.name == "manager").execute()
    results = upgrade_all(get_registry())
    assert results["core"] == (1, LATEST)
    assert {"core_saved_view", "core_absence"} <= set(db.obj.get_tables())
    # 0002 adds view.share, 0006 task.bulk_edit: each to the seeded manager role, once
    assert Role.get(Role.name == "manager").permissions == ["task.create", "task.comment", "view.share",
                                                            "task.bulk_edit"]
    manager = make_user("manager")
    assert manager.has_permission("view.share") and manager.has_permission("task.bulk_edit")
    assert upgrade_all(get_registry())["core"] == (LATEST, LATEST)


def test_core_0003_adds_the_replay_column_to_an_older_database(workdesk_app):
    from playhouse.migrate import migrate as apply

    from workdesk.models import JobRun
    apply(migrate.migrator().drop_column("core_job_run", "last_replay_at"))  # a database the 0002 core made
    SchemaVersion.update(version=2).where(SchemaVersion.owner == "core").execute()
    assert upgrade_all(get_registry())["core"] == (2, LATEST)
    assert migrate.has_column(db.obj, "core_job_run", "last_replay_at")
    replayed = dt.datetime(2099, 1, 1, tzinfo=dt.timezone.utc)
    JobRun.create(name="t.job", last_replay_at=replayed)
    assert JobRun.get_by_id("t.job").last_replay_at == replayed
    assert upgrade_all(get_registry())["core"] == (LATEST, LATEST)


def test_core_0008_adds_quiet_watchers_to_an_older_database(workdesk_app, make_department, make_user, make_task):
    from playhouse.migrate import migrate as apply

    from workdesk.models import TaskWatcher
    dept = make_department()
    user, watcher = make_user("agent", [dept]), make_user("agent", [dept])
    task = make_task(user, dept, watcher_ids=[watcher.id])
    apply(migrate.migrator().drop_column("core_task_watcher", "quiet"))  # a database the 0007 core made
    SchemaVersion.update(version=7).where(SchemaVersion.owner == "core").execute()
    assert upgrade_all(get_registry())["core"] == (7, LATEST)
    assert migrate.has_column(db.obj, "core_task_watcher", "quiet")
    assert TaskWatcher.get((TaskWatcher.task == task.id) & (TaskWatcher.user == watcher.id)).quiet is False
    assert upgrade_all(get_registry())["core"] == (LATEST, LATEST)


def test_core_0004_adds_attachments_and_comment_history_to_an_older_database(workdesk_app, make_department,
                                                                            make_user):
    from playhouse.migrate import migrate as apply

    from workdesk.models import Attachment, Comment, CommentRevision
    dept = make_department()
    agent = make_user("agent", departments=[dept])
    task = tasks.create_task(agent, title="older", department_id=dept.id)
    tasks.add_comment(agent, task.id, "written before 0004")
    db.obj.drop_tables([Attachment, CommentRevision])  # a database the 0003 core made
    apply(migrate.migrator().drop_column("core_comment", "internal"),
          migrate.migrator().drop_column("core_comment", "edited_at"))
    SchemaVersion.update(version=3).where(SchemaVersion.owner == "core").execute()
    assert upgrade_all(get_registry())["core"] == (3, LATEST)
    assert {"core_attachment", "core_comment_revision"} <= set(db.obj.get_tables())
    old = Comment.get()
    assert old.body == "written before 0004" and old.internal is False and old.edited_at is None
    tasks.edit_comment(agent, task.id, old.id, "edited after 0004")
    assert CommentRevision.get().body == "written before 0004"
    assert upgrade_all(get_registry())["core"] == (LATEST, LATEST)
