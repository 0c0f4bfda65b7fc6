"""Indexes that let a list sorted by due date be walked in that order (the search's common-word plan).

A common word (``q``) in a list sorted by due date is found by walking the tasks in due order and
testing each one's text, stopping when the page is full (see ``workdesk.search``): that needs the order
in an index. Ascending, the index on ``due_at`` serves it (NULLs last: PostgreSQL's default, and SQLite
walks the NULL entries after the others). Added here: due order within one department (the per-department
branches of an agent's list) on both databases, and PostgreSQL's descending order with NULLs still last.
"""
from workdesk.db import is_sqlite


def upgrade(migrator, database):
    if is_sqlite():
        # The rowid (the task id, the order's tie-breaker) ends every SQLite index entry.
        database.execute_sql("CREATE INDEX IF NOT EXISTS core_task_department_due ON core_task (department_id, due_at)")
    else:
        database.execute_sql("CREATE INDEX IF NOT EXISTS core_task_department_due ON core_task "
                             "(department_id, due_at, id)")
        database.execute_sql("CREATE INDEX IF NOT EXISTS core_task_due_desc ON core_task "
                             "(due_at DESC NULLS LAST, id DESC)")
