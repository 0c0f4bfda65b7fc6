"""Tables of the API component (own migration history: workdesk.api.migrations)."""
from __future__ import annotations

from peewee import CharField

from ..db import BaseModel, UTCDateTimeField, utcnow


class LoginFailure(BaseModel):
    """One failed ``POST /auth/token``; counted per email and per client address across processes."""
    email = CharField(max_length=254, index=True)
    address = CharField(max_length=64, index=True)
    at = UTCDateTimeField(default=utcnow, index=True)

    class Meta:
        table_name = "core_api_login_failure"


MODELS = [LoginFailure]
