"""Workdesk's JSON API (/api/v1) and the helpers plugin endpoints share with it.

Plugins import these through the facade (``from workdesk import api_blueprint, api_operation, ...``):

- :func:`api_blueprint` — a Blueprint already exempt from the form CSRF check and requiring an API user.
- :func:`api_operation` — describes a view for the OpenAPI document.
- :func:`load_json`, :func:`load_query` — validated input, 400/422 on bad input.
- :func:`require_api_user` — the authenticated user (bearer token, or session plus ``X-CSRFToken``).
- :func:`keyset_page` — ``{items, next_cursor}`` paging by id; :func:`visible_task_page` for tasks a user may see.
- :func:`task_to_dict` — the task representation, ``plugins`` included.
"""
from __future__ import annotations

from flask import Flask

from .framework import (API_PREFIX, ApiOperation, api_blueprint, api_operation, decode_cursor, encode_cursor,
                        keyset_page, load_data, load_json, load_query, require_api_user, visible_task_page)
from .representation import iso, task_to_dict, user_to_dict


def register_api(app: Flask) -> None:
    """Mount the core's endpoints at /api/v1 and the reference page at /api/docs."""
    from .views import api, docs
    app.register_blueprint(api)
    app.register_blueprint(docs)


__all__ = ["API_PREFIX", "ApiOperation", "api_blueprint", "api_operation", "decode_cursor", "encode_cursor",
           "keyset_page", "visible_task_page", "load_data", "load_json", "load_query", "require_api_user", "iso",
           "task_to_dict",
           "user_to_dict", "register_api"]
