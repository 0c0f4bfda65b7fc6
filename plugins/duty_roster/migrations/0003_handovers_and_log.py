"""Hand-over records and the duty log; 0001 creates them too on new installs."""
from ..models import Handover, LogEntry


def upgrade(migrator, database):
    database.create_tables([Handover, LogEntry], safe=True)
