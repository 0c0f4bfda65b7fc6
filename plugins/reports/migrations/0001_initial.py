"""Create the reports tables, and index the audit trail by time (every report reads it by period)."""
from ..models import MODELS


def upgrade(migrator, database):
    database.create_tables(MODELS, safe=True)
    # The core indexes core_task_event by task only; reports select events of a period, and read a
    # task's latest status or department before a given row (task, then row order: one index range).
    database.execute_sql("CREATE INDEX IF NOT EXISTS reports_task_event_at ON core_task_event (at)")
    database.execute_sql("CREATE INDEX IF NOT EXISTS reports_task_event_task_row ON core_task_event (task_id, id)")
