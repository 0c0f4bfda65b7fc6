"""The per-task facts the metrics read (see facts.py), derived at once from the existing audit trail."""
from ..models import FACT_MODELS


def upgrade(migrator, database):
    # 0001 creates every model of the plugin as it is now: on a fresh install the tables exist already.
    database.create_tables(FACT_MODELS, safe=True)
    # The status changes, in a partial index holding every column the volume, resolution and rate reads
    # use (status_changed too: SQLite counts an index as covering only for the columns it stores), so a
    # year's report reads the index alone, not a row of the table per change.
    database.execute_sql("CREATE INDEX IF NOT EXISTS reports_status_interval_changes ON reports_status_interval "
                         "(started_at, status_changed, task_id, status, from_status) WHERE status_changed = 1")
    from ..facts import rebuild
    rebuild()
