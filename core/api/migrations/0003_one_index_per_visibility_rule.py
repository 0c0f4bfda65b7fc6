"""One index per visibility rule of a task list, not two: every index is written by every task created.

0002 added ``(column, id)`` beside the single-column index each of these foreign keys already had. On
SQLite the pair is the same index (an entry ends in the rowid, the task id), so the copy goes. On
PostgreSQL the composite serves every lookup the single column served, and the keyset order too, so the
single column goes.
"""
from workdesk.db import is_sqlite

COLUMNS = ("department_id", "reporter_id", "assignee_id")


def upgrade(migrator, database):
    for column in COLUMNS:
        name = f"core_api_task_{column}_id" if is_sqlite() else f"core_task_{column}"
        database.execute_sql(f'DROP INDEX IF EXISTS "{name}"')
