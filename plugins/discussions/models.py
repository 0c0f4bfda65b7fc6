"""Tables owned by the discussions plugin; their names start with ``discussions_``."""
from __future__ import annotations

from peewee import BooleanField, CharField, ForeignKeyField, IntegerField, TextField

from workdesk import BaseModel, Department, User, UTCDateTimeField, utcnow


class Space(BaseModel):
    """A department's space (``department`` set, one each) or an instance-wide one (``department`` null)."""

    department = ForeignKeyField(Department, null=True, unique=True, backref="+", on_delete="CASCADE")
    name = CharField(max_length=200)
    description = TextField(default="")
    created_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "discussions_space"

    def __str__(self) -> str:
        return self.name


class Thread(BaseModel):
    space = ForeignKeyField(Space, backref="threads", on_delete="CASCADE")
    title = CharField(max_length=200)
    author = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    created_at = UTCDateTimeField(default=utcnow)
    last_post_at = UTCDateTimeField(default=utcnow, index=True)

    class Meta:
        table_name = "discussions_thread"


class Post(BaseModel):
    thread = ForeignKeyField(Thread, backref="posts", on_delete="CASCADE")
    space = ForeignKeyField(Space, backref="+", on_delete="CASCADE")  # denormalised: unread counts per space
    author = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    body = TextField()
    created_at = UTCDateTimeField(default=utcnow)
    edited_at = UTCDateTimeField(null=True)
    pinned = BooleanField(default=False, index=True)
    hidden_at = UTCDateTimeField(null=True)
    hidden_by = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    hidden_reason = TextField(default="")
    task_id = IntegerField(null=True)  # plain column: the post stays when the task is deleted

    class Meta:
        table_name = "discussions_post"
        indexes = ((("space", "id"), False),)


class PostFile(BaseModel):
    """A file on a post; bytes in the core attachment storage under ``storage_key``."""

    post = ForeignKeyField(Post, backref="files", on_delete="CASCADE")
    filename = CharField(max_length=255)
    content_type = CharField(max_length=100)
    size = IntegerField()
    storage_key = CharField(max_length=200, unique=True)
    created_at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "discussions_post_file"


class ReadMark(BaseModel):
    """The newest post of a thread a user has read."""

    user = ForeignKeyField(User, backref="+", on_delete="CASCADE")
    thread = ForeignKeyField(Thread, backref="+", on_delete="CASCADE")
    last_post_id = IntegerField(default=0)

    class Meta:
        table_name = "discussions_read_mark"
        indexes = ((("user", "thread"), True),)


class ModerationEntry(BaseModel):
    """Append-only audit trail of edits, hiding, pinning and posts turned into tasks."""

    post_id = IntegerField(index=True)
    space_id = IntegerField(index=True)
    actor = ForeignKeyField(User, null=True, backref="+", on_delete="SET NULL")
    action = CharField(max_length=32)
    reason = TextField(default="")
    before = TextField(default="")
    at = UTCDateTimeField(default=utcnow)

    class Meta:
        table_name = "discussions_moderation"


MODELS = [Space, Thread, Post, PostFile, ReadMark, ModerationEntry]
