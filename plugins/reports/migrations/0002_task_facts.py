"""The per-task facts the metrics read (see facts.py), derived at once from the existing audit trail."""
from ..models import FACT_MODELS


def upgrade(migrator, database):
    # 0001 creates every model of the plugin as it is now: on a fresh install the tables exist already.
    database.create_tables(FACT_MODELS, safe=True)
    from ..facts import rebuild
    rebuild()
