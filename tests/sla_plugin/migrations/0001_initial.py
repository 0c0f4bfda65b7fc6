from tests.sla_plugin.models import MODELS


def upgrade(migrator, database):
    database.create_tables(MODELS, safe=True)
