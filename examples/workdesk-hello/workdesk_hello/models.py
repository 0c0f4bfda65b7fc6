"""Tables owned by the hello plugin; their names start with the plugin's name."""
from peewee import CharField, DateField, IntegerField

from workdesk import BaseModel, UTCDateTimeField, utcnow


class Greeting(BaseModel):
    task_id = IntegerField(unique=True)  # unique: a redelivered event cannot greet twice
    text = CharField(max_length=200)
    # The language the greeting was written in (migration 0002): the instance's default locale.
    language = CharField(max_length=8, default="en")
    created_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "hello_greeting"


class DailyCount(BaseModel):
    day = DateField(unique=True)
    open_tasks = IntegerField()

    class Meta:
        table_name = "hello_daily_count"


MODELS = [Greeting, DailyCount]
