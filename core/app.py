"""The application factory."""
from __future__ import annotations

import datetime as dt
import importlib.metadata
import logging
from pathlib import Path
from typing import Any

import peewee
from flask import Blueprint, Flask, current_app, has_request_context, jsonify, make_response, render_template, request
from flask_babel import get_locale
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from . import jobs, outbox
from .config import load_settings
from .db import connect_database, database_unavailable, db, discard_connection
from .errors import WorkdeskError
from .extensions import (APP_EXTENSION_GROUP, CSP_NONCE_KEY, LANGUAGE_COOKIE, LANGUAGE_PARAMETER, LANGUAGES, babel,
                         csp_nonce, csrf)
from .queue import configure_queue, kick_outbox
from .registry import PluginRegistry, get_registry, set_registry

log = logging.getLogger("workdesk")


def _select_locale() -> str:
    from .auth import current_user
    settings = current_app.config["WORKDESK"]
    if not has_request_context():
        return settings["default_locale"]
    user = current_user()
    if user is not None and user.locale in LANGUAGES:
        return user.locale
    # Before login (or for an account without a language): the login page's language switch, then the browser.
    chosen = request.args.get(LANGUAGE_PARAMETER) if user is None else None
    for candidate in (chosen, request.cookies.get(LANGUAGE_COOKIE)):
        if candidate in LANGUAGES:
            return candidate
    return request.accept_languages.best_match(LANGUAGES) or settings["default_locale"]


def _select_timezone() -> str:
    from .auth import current_user
    user = current_user() if has_request_context() else None
    return user.zone.key if user is not None else current_app.config["WORKDESK"]["default_timezone"]


def init_runtime(settings: dict[str, Any], immediate_queue: bool = False) -> PluginRegistry:
    """Connect database and queue and discover plugins: everything a worker needs, without Flask."""
    logging.basicConfig(level=settings["log_level"], format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    connect_database(settings["database_url"])
    configure_queue(settings["queue_url"], immediate=immediate_queue)
    outbox.configure(settings["outbox_lease_seconds"], kick_outbox)
    jobs.configure(settings["job_lease_seconds"])
    from . import storage
    storage.configure(settings["instance_path"])
    from . import notifications
    notifications.configure(settings)  # links in messages a worker sends need base_url
    from . import signing
    signing.configure(settings)  # and signed links (workdesk.signing) need the secret key
    from .services import absences, tasks  # noqa: F401  (register the task and absence event kinds, the absence job)
    registry = PluginRegistry(refresh_seconds=settings["plugin_refresh_seconds"])
    registry.discover(settings["extra_plugins"])
    set_registry(registry)
    return registry


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the Workdesk web application.

    :param config: settings overriding the instance file and the environment (lower-case keys, see
        ``workdesk.config.SETTINGS``), plus ``instance_path``; upper-case keys go to ``app.config`` as is.
    """
    config = dict(config or {})
    flask_config = {k: config.pop(k) for k in list(config) if k.isupper()}
    instance_path = config.pop("instance_path", None)
    immediate = bool(config.pop("immediate_queue", False))
    settings = load_settings(Path(instance_path) if instance_path else None, overrides=config)
    registry = init_runtime(settings, immediate_queue=immediate)

    app = Flask("workdesk", instance_path=settings["instance_path"], instance_relative_config=True,
                template_folder=str(Path(__file__).parent / "web" / "templates"),
                static_folder=str(Path(__file__).parent / "static"))
    app.config.update(
        SECRET_KEY=settings["secret_key"],
        WORKDESK=settings,
        MAX_CONTENT_LENGTH=settings["max_content_length"],
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings["secure_cookies"],
        PERMANENT_SESSION_LIFETIME=dt.timedelta(days=14),
        BABEL_TRANSLATION_DIRECTORIES=";".join(translation_directories(registry)),
        WTF_CSRF_TIME_LIMIT=None,
        JSON_SORT_KEYS=False,
    )
    app.config.update(flask_config)
    # Every ``<int:...>`` in a route is a row id: bounded to ten ASCII digits, so a path such as
    # /tasks/99999999999999999999 is a 404 instead of an integer the database cannot take.
    from .api.framework import IdConverter
    app.url_map.converters.update(id=IdConverter, int=IdConverter)
    # A doubled slash (a name holding an encoded "/", such as /api/v1/plugins/%2F0) is a 404, not a
    # 308 redirect to some other resource that no API client expects.
    app.url_map.merge_slashes = False
    app.extensions["workdesk_registry"] = registry
    from .web.content import raise_upload_limit
    app.before_request(raise_upload_limit)  # before the CSRF check reads an upload's form
    csrf.init_app(app)
    babel.init_app(app, locale_selector=_select_locale, timezone_selector=_select_timezone)

    app.before_request(_gate)

    @app.teardown_appcontext
    def _end_request_transaction(exc):
        # Connections stay open for the thread's next request (a fresh connect re-applies the SQLite
        # pragmas and costs as much as the query); only a transaction left open by an error is undone.
        if not db.is_closed() and db.transaction_depth() > 0:
            db.rollback()

    _register_error_handlers(app)
    _register_security_headers(app)
    from .web import web
    app.register_blueprint(web)
    from .notifications.views import register_notifications
    register_notifications(app)
    from .api import register_api
    register_api(app)
    _register_plugin_files(app, registry)
    _register_plugin_blueprints(app, registry)
    _register_template_helpers(app)
    from .health import health_api
    app.register_blueprint(health_api)
    _attach_extensions(app)
    return app


def translation_directories(registry: PluginRegistry) -> list[str]:
    """Every plugin's ``translations/`` folder, then the core's: merged in this order, so a plugin's
    catalog adds its own messages and the core's wording of a shared message wins."""
    folders = [info.plugin.package_path() / "translations" for info in registry.usable()]
    return [str(f) for f in folders if f.is_dir()] + [str(Path(__file__).parent / "translations")]


def _register_plugin_files(app: Flask, registry: PluginRegistry) -> None:
    """Mount each plugin's ``templates/`` and ``static/`` folders by convention: templates join the
    app's search path (kept apart by the ``<plugin name>/`` folder inside), static files are served at
    ``/static/plugins/<plugin name>/`` and answer 404 while the plugin is disabled."""
    owners = app.extensions.setdefault("workdesk_blueprint_owner", {})
    for info in registry.usable():
        folder = info.plugin.package_path()
        templates, static = folder / "templates", folder / "static"
        if not templates.is_dir() and not static.is_dir():
            continue
        blueprint = Blueprint(f"{info.name}_plugin_files", type(info.plugin).__module__,
                              template_folder=str(templates) if templates.is_dir() else None,
                              static_folder=str(static) if static.is_dir() else None,
                              static_url_path=f"/static/plugins/{info.name}")
        app.register_blueprint(blueprint)
        owners[blueprint.name] = info.name


def _attach_extensions(app: Flask) -> None:
    """Let installed packages attach themselves (the admin panel is one): the core never imports them."""
    for entry_point in importlib.metadata.entry_points(group=APP_EXTENSION_GROUP):
        entry_point.load()(app)


def _gate():
    """Open the connection, forget per-request caches, and answer 404 for every route of a disabled plugin."""
    from flask import abort, g
    from flask_babel import refresh
    # An app context can outlive one request (tests, CLI scripts): the caller and their locale are
    # decided afresh for each request, never inherited from the previous one.
    for cached in ("user", "auth_method", current_app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token")):
        g.pop(cached, None)
    refresh()
    db.connect(reuse_if_open=True)
    owner = current_app.extensions.get("workdesk_blueprint_owner", {}).get(request.blueprint or "")
    if owner and not get_registry().is_enabled(owner):
        abort(404)


def _register_plugin_blueprints(app: Flask, registry: PluginRegistry) -> None:
    owners = app.extensions.setdefault("workdesk_blueprint_owner", {})
    for plugin_name, blueprint in registry.collect("register_blueprints", enabled_only=False, app=app):
        try:
            app.register_blueprint(blueprint)
            owners[blueprint.name] = plugin_name
        except Exception as exc:
            log.error("plugin %s: blueprint %s could not be registered: %s", plugin_name, blueprint, exc)
            registry.plugins[plugin_name].error = f"blueprint {blueprint.name} could not be registered: {exc}"


def wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


def error_response(code: str, message: str, status: int, fields: dict | None = None, **extra):
    if wants_json():
        return jsonify({"error": {"code": code, "message": message, "fields": fields or {}, **extra}}), status
    return render_template("core/error.html", status=status, message=message), status


def http_error_message(status: int) -> str:
    """What a person reads for an HTTP error status: plain words, translated, never the server's jargon."""
    from flask_babel import gettext as _
    messages = {
        400: _("Something in this request was not right. Go back and try again."),
        401: _("Please log in to continue."),
        403: _("You are not allowed to open this page. If you need it, ask an administrator for access."),
        404: _("Not found."),
        405: _("This page cannot be used this way. Go back and try again."),
        408: _("This took too long. Try again."),
        409: _("This clashes with a change made meanwhile. Reload the page and try again."),
        413: _("What you sent is too large."),
        429: _("Too many attempts. Wait a moment and try again."),
        503: _("Workdesk is not available right now. Try again in a few minutes."),
    }
    if status in messages:
        return messages[status]
    if status >= 500:
        return _("Something went wrong on our side; it has been logged.")
    return _("This request cannot be handled. Go back and try again.")


def _register_error_handlers(app: Flask) -> None:
    from flask_babel import gettext as _

    @app.errorhandler(WorkdeskError)
    def _workdesk_error(exc: WorkdeskError):
        response = make_response(error_response(exc.code, exc.message, exc.status, exc.fields, **exc.extra))
        if getattr(exc, "retry_after", None):
            response.headers["Retry-After"] = str(exc.retry_after)
        return response

    @app.errorhandler(CSRFError)
    def _csrf_error(exc: CSRFError):
        return error_response("csrf_failed", _("The form expired or did not come from this site. "
                                               "Reload the page and try again."), 400)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        status = exc.code or 500
        codes = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
                 405: "method_not_allowed", 413: "payload_too_large", 429: "rate_limited"}
        # Werkzeug's descriptions are written for developers ("read-protected or not readable by the
        # server"): a page says it plainly, in the reader's language. An API client also gets a
        # description a view gave on purpose.
        custom = exc.description if exc.description != type(exc).description else None
        message = custom if custom and wants_json() else http_error_message(status)
        return error_response(codes.get(status, "http_error"), message, status)

    @app.errorhandler(peewee.OperationalError)
    @app.errorhandler(peewee.InterfaceError)
    def _database_unavailable(exc: Exception):
        if not database_unavailable(exc):
            return _unexpected(exc)
        log.warning("database unavailable on %s %s: %s", request.method, request.path, str(exc).splitlines()[0])
        discard_connection()
        from flask import g
        g.user = None  # the page is drawn without the navigation, which would ask the database again
        response = make_response(error_response(
            "unavailable", _("Workdesk cannot reach its database right now. Try again in a few seconds."), 503))
        response.headers["Retry-After"] = "5"
        return response

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        log.exception("unhandled error on %s %s", request.method, request.path)
        if not db.is_closed() and db.transaction_depth() > 0:
            db.rollback()
        from flask import g
        g.setdefault("user", None)  # the error may have come from finding the user: the message must not ask again
        return error_response("internal_error", _("Something went wrong on our side; it has been logged."), 500)


def content_security_policy(nonce: str | None) -> str:
    """The policy of every response: only this site's own scripts, styles, images, fonts and
    forms, never in a frame; an inline block runs only with this request's nonce."""
    inline = f" 'nonce-{nonce}'" if nonce else ""
    return ("default-src 'self'; "
            f"script-src 'self'{inline}; "
            f"style-src 'self'{inline}; "
            "img-src 'self' data:; "  # Bootstrap draws its checkboxes and select arrows as data: SVGs
            "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")


def _register_security_headers(app: Flask) -> None:
    """One place for the headers every response carries: pages, the admin panel, the API, plugin
    pages, error pages and static files alike."""
    app.jinja_env.globals["csp_nonce"] = csp_nonce

    @app.after_request
    def _security_headers(response):
        headers = response.headers
        # An uploaded file carries the stricter policy it was served with (``workdesk.web.content``).
        headers["Content-Security-Policy"] = getattr(response, "file_policy", None) or content_security_policy(
            request.environ.get(CSP_NONCE_KEY))
        headers["X-Frame-Options"] = "DENY"
        headers["X-Content-Type-Options"] = "nosniff"
        headers["Referrer-Policy"] = "same-origin"
        return response


def _register_template_helpers(app: Flask) -> None:
    from .dates import register_template_helpers
    register_template_helpers(app)  # |localtime and |reltime

    @app.context_processor
    def _inject():
        from .auth import current_user
        return {"current_user": current_user(), "registry": get_registry(), "get_locale": get_locale}
