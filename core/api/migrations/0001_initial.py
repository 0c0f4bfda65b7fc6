"""The login-failure ledger behind the token endpoint's rate limit."""
from workdesk.api.models import MODELS


def upgrade(migrator, database):
    database.create_tables(MODELS, safe=True)
