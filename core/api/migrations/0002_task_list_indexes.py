"""Indexes that let a task list page each visibility rule along (column, id) at constant cost.

SQLite's single-column indexes already end in the rowid (the id); PostgreSQL's do not, so without
these a department's newest tasks would be sorted instead of read in order.
"""


def upgrade(migrator, database):
    for column in ("department_id", "reporter_id", "assignee_id"):
        database.execute_sql(f'CREATE INDEX IF NOT EXISTS "core_api_task_{column}_id" '
                             f'ON "core_task" ("{column}", "id")')
