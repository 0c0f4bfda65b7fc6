"""Marshmallow schemas of the discussions API: what requests may carry and what answers look like."""
from __future__ import annotations

from marshmallow import Schema
from marshmallow import fields as mf

from workdesk import Id, StrictBoolean, Text


class SpaceOutput(Schema):
    id = mf.Integer()
    name = mf.String()
    description = mf.String()
    department_id = mf.Integer(allow_none=True, metadata={"description": "null for an instance-wide space"})
    unread = mf.Integer(metadata={"description": "Posts by others the reader has not read yet"})


class SpaceList(Schema):
    items = mf.List(mf.Nested(SpaceOutput))


class SpaceInput(Schema):
    name = Text(required=True, min_length=1, max_length=200)
    description = Text(max_length=5000)


class ThreadOutput(Schema):
    id = mf.Integer()
    space_id = mf.Integer()
    title = mf.String()
    author_id = mf.Integer(allow_none=True)
    created_at = mf.String()
    last_post_at = mf.String()
    unread = mf.Integer()


class ThreadList(Schema):
    items = mf.List(mf.Nested(ThreadOutput))


class ThreadInput(Schema):
    title = Text(required=True, min_length=1, max_length=200)
    body = Text(required=True, min_length=1, max_length=50000, metadata={"description": "Markdown"})


class FileOutput(Schema):
    id = mf.Integer()
    filename = mf.String()
    content_type = mf.String()
    size = mf.Integer()


class PostOutput(Schema):
    id = mf.Integer()
    thread_id = mf.Integer()
    author_id = mf.Integer(allow_none=True)
    body = mf.String(metadata={"description": "Markdown; empty when hidden"})
    created_at = mf.String()
    edited_at = mf.String(allow_none=True)
    pinned = mf.Boolean()
    hidden = mf.Boolean()
    hidden_reason = mf.String(allow_none=True)
    task_id = mf.Integer(allow_none=True, metadata={"description": "The task filed from this post"})
    files = mf.List(mf.Nested(FileOutput))


class PostList(Schema):
    items = mf.List(mf.Nested(PostOutput))


class ThreadDetail(ThreadOutput):
    posts = mf.List(mf.Nested(PostOutput))


class PostInput(Schema):
    body = Text(required=True, min_length=1, max_length=50000, metadata={"description": "Markdown"})


class HideInput(Schema):
    reason = Text(required=True, min_length=1, max_length=2000)


class PinInput(Schema):
    pinned = StrictBoolean(required=True)


class TaskInput(Schema):
    title = Text(max_length=200, metadata={"description": "Default: the thread's title"})
    department_id = Id(metadata={"description": "Required for a post in an instance-wide space"})


class TaskOutput(Schema):
    task_id = mf.Integer()
    number = mf.Integer()


class SearchQuery(Schema):
    q = Text(required=True, min_length=1, max_length=200)


class ModerationOutput(Schema):
    id = mf.Integer()
    post_id = mf.Integer()
    actor_id = mf.Integer(allow_none=True)
    action = mf.String()
    reason = mf.String()
    at = mf.String()


class ModerationList(Schema):
    items = mf.List(mf.Nested(ModerationOutput))
