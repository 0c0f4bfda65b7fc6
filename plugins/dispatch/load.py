"""The triggers that keep ``dispatch_load`` (each person's open tasks and weighted load) exact.

Every insert, delete and change of a task's assignee, status or priority adjusts the old assignee's and the
new assignee's row in the same transaction, whichever code made the change. Grouping the open tasks
instead costs a scan of all of them per decision (about 300 ms for 100,000 tasks here); the triggers make a
decision's figures a lookup by key. They run while the plugin is disabled too, so its figures are right
the moment it is enabled again; :func:`rebuild` recounts from the tasks (the first migration does it)."""
from __future__ import annotations

from peewee import Case, SqliteDatabase, fn

from workdesk import OPEN_STATUSES, Task

from .models import Load

# Load counts open work weighted by priority: an urgent task weighs as much as five low ones.
PRIORITY_WEIGHT = {"low": 1, "normal": 2, "high": 3, "urgent": 5}


def _weight(row: str) -> str:
    cases = " ".join(f"WHEN '{p}' THEN {w}" for p, w in PRIORITY_WEIGHT.items())
    return f"(CASE {row}.priority {cases} ELSE 1 END)"


def _counts(row: str) -> str:
    statuses = ", ".join(f"'{s}'" for s in OPEN_STATUSES)
    return f"{row}.assignee_id IS NOT NULL AND {row}.status IN ({statuses})"


def _sqlite_statements(table: str) -> list[str]:
    add = ("INSERT INTO dispatch_load (user_id, open_tasks, load) SELECT NEW.assignee_id, 1, {w} WHERE {c} "
           "ON CONFLICT (user_id) DO UPDATE SET open_tasks = open_tasks + 1, load = load + excluded.load;"
           ).format(w=_weight("NEW"), c=_counts("NEW"))
    remove = ("UPDATE dispatch_load SET open_tasks = open_tasks - 1, load = load - {w} "
              "WHERE user_id = OLD.assignee_id AND {c};").format(w=_weight("OLD"), c=_counts("OLD"))
    return [
        "DROP TRIGGER IF EXISTS dispatch_load_insert", "DROP TRIGGER IF EXISTS dispatch_load_delete",
        "DROP TRIGGER IF EXISTS dispatch_load_update",
        f"CREATE TRIGGER dispatch_load_insert AFTER INSERT ON {table} BEGIN {add} END",
        f"CREATE TRIGGER dispatch_load_delete AFTER DELETE ON {table} BEGIN {remove} END",
        f"CREATE TRIGGER dispatch_load_update AFTER UPDATE OF assignee_id, status, priority ON {table} "
        f"BEGIN {remove} {add} END",
    ]


def _postgres_statements(table: str) -> list[str]:
    return [
        f"""CREATE OR REPLACE FUNCTION dispatch_track_load() RETURNS trigger AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') AND {_counts('OLD')} THEN
    UPDATE dispatch_load SET open_tasks = open_tasks - 1, load = load - {_weight('OLD')}
     WHERE user_id = OLD.assignee_id;
  END IF;
  IF TG_OP IN ('UPDATE', 'INSERT') AND {_counts('NEW')} THEN
    INSERT INTO dispatch_load (user_id, open_tasks, load) VALUES (NEW.assignee_id, 1, {_weight('NEW')})
    ON CONFLICT (user_id) DO UPDATE SET open_tasks = dispatch_load.open_tasks + 1,
                                        load = dispatch_load.load + EXCLUDED.load;
  END IF;
  RETURN NULL;
END $$ LANGUAGE plpgsql""",
        f"DROP TRIGGER IF EXISTS dispatch_load ON {table}",
        f"CREATE TRIGGER dispatch_load AFTER INSERT OR DELETE OR UPDATE OF assignee_id, status, priority ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION dispatch_track_load()",
    ]


def install(database) -> None:
    """Create (or replace) the triggers, then recount."""
    table = Task._meta.table_name
    statements = (_sqlite_statements(table) if isinstance(database, SqliteDatabase)
                  else _postgres_statements(table))
    for statement in statements:
        database.execute_sql(statement)
    rebuild()


def rebuild() -> None:
    """Recount every person's open tasks and load from the tasks (one grouped query)."""
    weight = fn.SUM(Case(Task.priority, list(PRIORITY_WEIGHT.items()), 1))
    Load.delete().execute()
    Load.insert_from(Task.select(Task.assignee, fn.COUNT(Task.id), weight)
                     .where(Task.assignee.is_null(False) & Task.status.in_(OPEN_STATUSES))
                     .group_by(Task.assignee), [Load.user_id, Load.open_tasks, Load.load]).execute()


def _present(database) -> bool:
    if isinstance(database, SqliteDatabase):
        found = database.execute_sql("SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name IN "
                                      "('dispatch_load_insert', 'dispatch_load_delete', 'dispatch_load_update')")
        return found.fetchone()[0] == 3
    found = database.execute_sql("SELECT count(*) FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid WHERE "
                                 "t.tgname = 'dispatch_load' AND c.relname = %s AND pg_table_is_visible(c.oid)",
                                 (Task._meta.table_name,))
    return found.fetchone()[0] == 1


def ensure(now=None, since=None) -> bool:
    """The periodic job: put the triggers back (and recount) if they are gone, as a rebuilt task table (a
    migration copying it) would leave them. Returns whether it had to."""
    from workdesk import db, write_transaction
    with write_transaction():
        if _present(db.obj):
            return False
        install(db.obj)
        return True
