"""Pytest fixtures for Workdesk and for plugin authors (loaded through the ``pytest11`` entry point).

A plugin's own test suite gets, without any conftest:

- ``workdesk_app``: a fresh app on a temporary SQLite database (or PostgreSQL, see ``workdesk_database``),
  schema upgraded, every discovered plugin present and disabled.
- ``client``: Flask's test client for it; ``login(client, user)`` logs a user in.
- ``make_user``, ``make_department``, ``make_task``: factories going through the real services.
- ``enable_plugin(name, **settings)``; ``drain_events()`` handles pending outbox events as a worker would.
- ``api_client(role)``: a client for the JSON API that sends a bearer token of a new user with that role.
- ``run_jobs(now)``: runs every due periodic job as of ``now`` (then handles the events they caused),
  as a worker would at that instant; tests drive time with it and never sleep.
- ``postgres_url`` and ``redis_url``: real servers from ``TEST_POSTGRES_URL`` / ``TEST_REDIS_URL``,
  skipped with a reason when unset.
"""
from __future__ import annotations

import datetime as dt
import itertools
import os
import secrets
import uuid
from dataclasses import dataclass
from typing import Any, Callable, Iterator
from urllib.parse import quote

import pytest

_counter = itertools.count(1)


def pytest_configure(config):
    config.addinivalue_line("markers", "postgres: needs TEST_POSTGRES_URL")
    config.addinivalue_line("markers", "redis: needs TEST_REDIS_URL")
    config.addinivalue_line("markers", "browser: needs Chromium at /usr/bin/chromium")
    # Hashing at production strength would dominate test time; the algorithm stays argon2.
    from argon2 import PasswordHasher
    from . import auth
    auth._hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A PostgreSQL URL confined to a fresh schema that is dropped afterwards."""
    base = os.environ.get("TEST_POSTGRES_URL")
    if not base:
        pytest.skip("PostgreSQL tests need TEST_POSTGRES_URL (set by .ci/run), e.g. postgresql://postgres@127.0.0.1/test")
    import psycopg
    schema = f"wd_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    sep = "&" if "?" in base else "?"
    yield f"{base}{sep}options={quote(f'-csearch_path={schema}')}"
    from .db import db
    if db.obj is not None and not db.is_closed():
        db.close()
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture
def redis_url() -> str:
    url = os.environ.get("TEST_REDIS_URL")
    if not url:
        pytest.skip("Redis tests need TEST_REDIS_URL (set by .ci/run), e.g. redis://127.0.0.1:6379/0")
    return url


@pytest.fixture
def workdesk_database(request, tmp_path) -> str:
    """The database URL of ``workdesk_app``; parametrize indirectly with "sqlite" or "postgresql"."""
    kind = getattr(request, "param", "sqlite")
    if kind == "postgresql":
        return request.getfixturevalue("postgres_url")
    return f"sqlite:///{tmp_path / 'workdesk.db'}"


@pytest.fixture
def workdesk_config(tmp_path, workdesk_database) -> dict[str, Any]:
    """Settings for ``workdesk_app``; override this fixture to change them."""
    return {
        "instance_path": str(tmp_path),
        "secret_key": secrets.token_urlsafe(24),
        "database_url": workdesk_database,
        "queue_url": "memory://",
        "plugin_refresh_seconds": 0,
        "TESTING": True,
    }


@pytest.fixture
def workdesk_app(workdesk_config, monkeypatch):
    for name in list(os.environ):
        if name.startswith("WORKDESK_"):
            monkeypatch.delenv(name)
    from .app import create_app
    from .db import db
    from .registry import set_registry
    from .schema import upgrade_all
    app = create_app(dict(workdesk_config))
    upgrade_all(app.extensions["workdesk_registry"])
    with app.app_context():
        yield app
    if not db.is_closed():
        db.close()
    set_registry(None)


@pytest.fixture
def client(workdesk_app):
    return workdesk_app.test_client()


@pytest.fixture
def login() -> Callable:
    def do_login(client, user) -> None:
        with client.session_transaction() as session:
            session.clear()
            session["uid"] = user.id
            session["sv"] = user.session_version
            session["sid"] = secrets.token_urlsafe(8)
    return do_login


@pytest.fixture
def make_department(workdesk_app) -> Callable:
    from .services.users import create_department

    def make(name: str | None = None, **kwargs):
        return create_department(None, name=name or f"Department {next(_counter)}", **kwargs)
    return make


@pytest.fixture
def make_user(workdesk_app) -> Callable:
    from .services.users import create_user

    def make(role: str = "agent", departments=(), email: str | None = None, password: str = "password123",
             name: str | None = None, **kwargs):
        n = next(_counter)
        return create_user(None, email=email or f"{role}{n}@example.com", name=name or f"{role.title()} {n}",
                           password=password, role=role, department_ids=[d.id for d in departments], **kwargs)
    return make


@pytest.fixture
def make_task(workdesk_app) -> Callable:
    from .services.tasks import create_task

    def make(actor, department, title: str | None = None, **kwargs):
        return create_task(actor, title=title or f"Task {next(_counter)}", department_id=department.id, **kwargs)
    return make


@pytest.fixture
def enable_plugin(workdesk_app) -> Callable:
    from .registry import save_plugin_settings, set_plugin_enabled

    def enable(name: str, **settings):
        if settings:  # configured first, as an admin would: on_plugin_enabled sees the settings, and
            # enabling is refused while a setting it requires is missing
            save_plugin_settings(name, settings)
        set_plugin_enabled(name, True)
    return enable


@pytest.fixture
def drain_events(workdesk_app) -> Callable[[], int]:
    from .outbox import drain
    return drain


@dataclass
class ApiClient:
    """Flask's test client for the JSON API, sending ``Authorization: Bearer <token>`` of ``user``."""
    client: Any
    user: Any
    token: str

    def open(self, method: str, path: str, **kwargs):
        headers = {**kwargs.pop("headers", {}), "Authorization": f"Bearer {self.token}"}
        return self.client.open(path, method=method, headers=headers, **kwargs)

    def get(self, path: str, **kwargs):
        return self.open("GET", path, **kwargs)

    def post(self, path: str, **kwargs):
        return self.open("POST", path, **kwargs)

    def put(self, path: str, **kwargs):
        return self.open("PUT", path, **kwargs)

    def patch(self, path: str, **kwargs):
        return self.open("PATCH", path, **kwargs)

    def delete(self, path: str, **kwargs):
        return self.open("DELETE", path, **kwargs)


@pytest.fixture
def api_client(workdesk_app, make_user) -> Callable[..., ApiClient]:
    """``api_client(role="agent", departments=(), user=None)``: an :class:`ApiClient` with a real token
    (issued as ``POST /api/v1/auth/token`` would) for ``user``, or for a new user with ``role``."""
    from .auth import issue_token

    def make(role: str = "agent", departments=(), user=None, **user_kwargs) -> ApiClient:
        user = user or make_user(role, departments=departments, **user_kwargs)
        return ApiClient(workdesk_app.test_client(), user, issue_token(user, name="workdesk.testing"))
    return make


@pytest.fixture
def run_jobs(workdesk_app) -> Callable[..., dict[str, str]]:
    """``run_jobs(now, force=False)``: run every enabled periodic job that is due as of ``now`` (an aware
    datetime or an ISO-8601 string with an offset), then handle the outbox events they caused, as a
    worker would at that instant. Returns ``{job name: "ran" | "not_due" | "locked" | "failed"}``."""
    from .jobs import run_due_jobs
    from .outbox import drain

    def run(now: dt.datetime | str, force: bool = False) -> dict[str, str]:
        if isinstance(now, str):
            now = dt.datetime.fromisoformat(now.replace("Z", "+00:00"))
        if now.tzinfo is None:
            raise ValueError("run_jobs needs an aware datetime (with a UTC offset), never a naive one")
        results = run_due_jobs(now=now.astimezone(dt.timezone.utc), force=force)
        drain()
        return results
    return run


# -- real browser ---------------------------------------------------------------------------------

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage"]


@pytest.fixture
def live_server(workdesk_app) -> Iterator[str]:
    """Serve ``workdesk_app`` on a free loopback port in a thread; yields its base URL."""
    import threading
    from werkzeug.serving import make_server
    server = make_server("127.0.0.1", 0, workdesk_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="session")
def chromium():
    """Debian's Chromium driven by Playwright; skipped with a reason when either is missing."""
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"browser tests need Chromium at {CHROMIUM} (Debian package 'chromium'; .ci/run installs it)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("browser tests need the 'playwright' Python package (make test installs it)")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium, live_server):
    """A fresh browser page (1280x800) whose base URL is the live server."""
    context = chromium.new_context(base_url=live_server, viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


@pytest.fixture
def artifacts_dir(request):
    """``test-artifacts/<test name>/`` for screenshots that CI keeps."""
    from pathlib import Path
    path = Path(request.config.rootpath) / "test-artifacts" / request.node.name.replace("/", "_")
    path.mkdir(parents=True, exist_ok=True)
    return path
