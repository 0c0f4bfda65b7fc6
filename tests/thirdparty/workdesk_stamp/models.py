from peewee import CharField, IntegerField

from workdesk import BaseModel, UTCDateTimeField, utcnow


class Stamp(BaseModel):
    task_id = IntegerField(index=True)
    day = CharField(max_length=10)  # ISO date of the job's "now": one stamp per task and day
    created_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "stamp_stamp"
        indexes = ((("task_id", "day"), True),)


class Lifecycle(BaseModel):
    what = CharField(max_length=20)
    at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "stamp_lifecycle"


MODELS = [Stamp, Lifecycle]
