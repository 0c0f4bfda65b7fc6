from peewee import CharField, IntegerField

from workdesk import BaseModel, UTCDateTimeField


class SlaClock(BaseModel):
    """The nearest deadline of a task and its state: one row per task, so a join never repeats a task."""
    task_id = IntegerField(unique=True)
    deadline = UTCDateTimeField(null=True, index=True)
    state = CharField(max_length=16, default="running")

    class Meta:
        table_name = "slatest_clock"


MODELS = [SlaClock]
