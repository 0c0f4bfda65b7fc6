"""Swap requests between members; 0001 creates the table too on new installs."""
from ..models import Swap


def upgrade(migrator, database):
    database.create_tables([Swap], safe=True)
