"""One public import name, locked installs, layering: what a fresh install and a plugin author rely on."""
from __future__ import annotations

import ast
import importlib.metadata
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from packaging.markers import Marker
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
PUBLIC = {"workdesk", "workdesk.testing"}


def python_files(*folders: str):
    for folder in folders:
        yield from (p for p in (ROOT / folder).rglob("*.py") if ".venv" not in p.parts)


def imported_modules(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def test_nothing_named_core_plugins_or_admin_is_installed_at_the_top_level():
    distribution = importlib.metadata.distribution("workdesk")
    top_level = {name for name in (distribution.read_text("top_level.txt") or "").split()}
    assert top_level <= {"workdesk"}, top_level
    for name in ("core", "plugins", "admin"):
        spec = subprocess.run([sys.executable, "-P", "-c", f"import importlib.util as u; print(u.find_spec('{name}'))"],
                              capture_output=True, text=True, cwd="/", check=True).stdout.strip()
        assert spec == "None", f"{name} is importable from site-packages: {spec}"


def test_first_party_plugins_and_the_example_use_only_the_public_surface():
    offenders = []
    for path in python_files("plugins", "examples"):
        own = path.relative_to(ROOT).parts[1]  # plugins/<name>/... or examples/<project>/...
        for module in imported_modules(path):
            if module.split(".")[0] in ("core", "plugins", "admin"):
                offenders.append((str(path.relative_to(ROOT)), module))
            elif module.startswith("workdesk") and module not in PUBLIC and not module.startswith(
                    f"workdesk.plugins.{own}") and not module.startswith("workdesk_hello"):
                offenders.append((str(path.relative_to(ROOT)), module))
    assert offenders == []


def test_the_core_never_imports_the_admin_panel_or_a_plugin():
    offenders = [(str(p.relative_to(ROOT)), m) for p in python_files("core") for m in imported_modules(p)
                 if m.startswith(("workdesk.admin", "workdesk.plugins", "admin", "plugins"))]
    assert offenders == []


def test_the_version_is_declared_once():
    import workdesk
    pyproject = (ROOT / "pyproject.toml").read_text()
    declared = re.search(r'^version = "([^"]+)"', pyproject, re.M).group(1)
    assert workdesk.__version__ == declared == importlib.metadata.version("workdesk")
    assert not re.search(r'__version__ = "', "\n".join(p.read_text() for p in python_files("core")))


def locked_versions() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_.\-\[\]]+)==([^\s;\\]+)\s*(?:;\s*([^\\]+?))?\s*\\?$", line)
        if match:
            name, version, marker = match.groups()
            if marker is None or Marker(marker).evaluate():
                pins[canonicalize_name(name.split("[")[0])] = version
    return pins


def test_every_package_of_the_lock_is_installed_at_exactly_its_pinned_version():
    pins = locked_versions()
    assert {"flask", "pluggy", "peewee", "huey", "babel", "marshmallow", "setuptools"} <= set(pins)
    installed = {canonicalize_name(d.metadata["Name"]): d.version for d in importlib.metadata.distributions()}
    wrong = {name: (version, installed.get(name)) for name, version in pins.items() if installed.get(name) != version}
    assert wrong == {}, "run `make install` (or `make lock` after changing pyproject.toml)"
    assert "--hash=sha256:" in (ROOT / "requirements.lock").read_text()


# -- a decoy folder cannot shadow Workdesk ----------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def decoy_folder(tmp_path):
    """A folder holding packages named like Workdesk's folders and like Workdesk itself."""
    folder = tmp_path / "projects"
    for name in ("core", "plugins", "admin", "workdesk"):
        (folder / name).mkdir(parents=True)
        (folder / name / "__init__.py").write_text(f"raise ImportError('decoy {name} imported')\n")
    return folder


def test_workdesk_run_and_worker_from_a_folder_with_decoys_load_every_plugin(decoy_folder, tmp_path):
    bin_dir = Path(sys.executable).parent
    workdesk = str(bin_dir / "workdesk")
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKDESK_") and k != "PYTHONPATH"}
    env.update(WORKDESK_INSTANCE=str(tmp_path / "instance"), WORKDESK_LOG_LEVEL="INFO")
    run = dict(cwd=str(decoy_folder), env=env, capture_output=True, text=True, timeout=120)
    assert subprocess.run([workdesk, "init", "--demo"], **run).returncode == 0
    listing = subprocess.run([workdesk, "plugins", "list"], **run).stdout
    assert "failed to load" not in listing and "decoy" not in listing
    for name in ("recurring", "email", "webhooks", "hello"):
        assert re.search(rf"^{name}\s", listing, re.M), listing

    port = free_port()
    server = subprocess.Popen([workdesk, "run", "--port", str(port)], cwd=str(decoy_folder), env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    worker = subprocess.Popen([workdesk, "worker", "--threads", "1"], cwd=str(decoy_folder), env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        base = f"http://127.0.0.1:{port}/api/v1"

        def call(path, body=None, token=None):
            request = urllib.request.Request(base + path, data=json.dumps(body).encode() if body else None,
                                             headers={"Content-Type": "application/json",
                                                      **({"Authorization": f"Bearer {token}"} if token else {})})
            with urllib.request.urlopen(request, timeout=5) as answer:
                return json.load(answer)
        token, alive = None, []
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                token = token or call("/auth/token", {"email": "admin@example.com", "password": "workdesk-demo"})["token"]
                alive = [w for w in call("/health", token=token)["worker"]["workers"] if w["alive"]]
                if len(alive) >= 2:  # the worker `workdesk run` started, and `workdesk worker`
                    break
            except OSError:
                pass
            time.sleep(0.5)
        assert len(alive) >= 2, alive
        plugins = {p["name"]: p for p in call("/plugins", token=token)["items"]}
        for name in ("recurring", "email", "webhooks", "hello"):
            assert plugins[name]["error"] is None, plugins[name]
    finally:
        for process in (server, worker):
            os.killpg(process.pid, signal.SIGTERM)
        outputs = [process.communicate(timeout=30)[0] for process in (server, worker)]
    for output in outputs:
        assert "decoy" not in output and "failed to load" not in output, output
