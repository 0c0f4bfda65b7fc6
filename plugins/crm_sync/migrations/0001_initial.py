"""Create the CRM sync tables: customers, their emails, links to the CRM and to tasks, sync state, pushes."""
from ..models import MODELS


def upgrade(migrator, database):
    database.create_tables(MODELS, safe=True)
