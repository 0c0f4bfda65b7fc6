"""A saved batch may run on some days of the week only (the morning inspection on working days)."""
from peewee import JSONField
from playhouse.migrate import migrate

from workdesk import has_column


def upgrade(migrator, database):
    if has_column(database, "dispatch_batch", "weekdays"):  # 0001 creates it on new installs
        return
    # Added empty, filled through the model's field (peewee renders a list default in the migration's own
    # UPDATE as "()"), then required, as 0001 makes it.
    migrate(migrator.add_column("dispatch_batch", "weekdays", JSONField(null=True)))
    from ..models import Batch
    Batch.update(weekdays=[]).where(Batch.weekdays.is_null()).execute()
    migrate(migrator.add_not_null("dispatch_batch", "weekdays"))
