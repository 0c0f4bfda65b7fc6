"""Occurrences outlive their task: a deleted task leaves its occurrence (so it is not filed again) with
``task_id`` cleared and the time of the deletion."""
from playhouse.migrate import migrate

from workdesk import UTCDateTimeField, has_column


def upgrade(migrator, database):
    operations = [migrator.drop_not_null("recurring_occurrence", "task_id")]
    if not has_column(database, "recurring_occurrence", "task_deleted_at"):  # 0001 creates it on new installs
        operations.append(migrator.add_column("recurring_occurrence", "task_deleted_at", UTCDateTimeField(null=True)))
    migrate(*operations)
