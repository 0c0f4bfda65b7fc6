from tests.core.sample_plugins import HandledEvent


def upgrade(migrator, database):
    database.create_tables([HandledEvent], safe=True)
