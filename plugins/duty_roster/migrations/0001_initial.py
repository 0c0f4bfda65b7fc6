"""Create the duty roster tables: rotations, overrides, per-department settings."""
from ..models import MODELS


def upgrade(migrator, database):
    database.create_tables(MODELS, safe=True)
