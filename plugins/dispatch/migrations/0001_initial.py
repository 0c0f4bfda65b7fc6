"""Create the dispatch tables (rules, decisions, activity, loads, the lock row, saved batches) and the
triggers that keep each person's load."""
from ..load import install
from ..models import MODELS, Lock


def upgrade(migrator, database):
    database.create_tables(MODELS, safe=True)
    Lock.insert(name="dispatch").on_conflict_ignore().execute()
    install(database)
