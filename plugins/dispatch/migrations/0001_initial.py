"""Create the dispatch tables: rules, decisions, activity, the lock row and saved batches."""
from ..models import MODELS, Lock


def upgrade(migrator, database):
    database.create_tables(MODELS, safe=True)
    Lock.insert(name="dispatch").on_conflict_ignore().execute()
