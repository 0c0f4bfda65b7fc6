"""The Flask extension objects every part of the web app shares, and the languages Workdesk speaks.

They live here, not in the app factory's module, so that the API, the pages, the admin panel and
plugins can use them without importing the factory.
"""
from __future__ import annotations

import secrets

from flask import request
from flask_babel import Babel
from flask_wtf.csrf import CSRFProtect

csrf = CSRFProtect()
babel = Babel()
LANGUAGES = ("en", "de", "fr", "es", "bg", "ru", "vi", "zh_Hans")
# The login page's language switch: ``?lang=<code>`` picks a language and a cookie remembers it until an
# account's own setting takes over.
LANGUAGE_PARAMETER = "lang"
LANGUAGE_COOKIE = "workdesk_lang"

# Entry points through which packages attach themselves to every app ``create_app`` builds, like the
# admin panel does: ``name = "package.module:function"``, called with the Flask app.
APP_EXTENSION_GROUP = "workdesk.app_extensions"

CSP_NONCE_KEY = "workdesk.csp_nonce"


def csp_nonce() -> str:
    """This request's Content-Security-Policy nonce (made on first use).

    A ``<script>`` or ``<style>`` block that must be inline carries ``nonce="{{ csp_nonce() }}"``;
    the response's policy then allows exactly those blocks (see ``workdesk.app``'s security headers).
    """
    # Kept with the request, not in ``g``: an app context may outlive one request (tests, CLI).
    return request.environ.setdefault(CSP_NONCE_KEY, secrets.token_urlsafe(18))
