"""Settings: defaults, then ``instance/workdesk.toml``, then ``WORKDESK_*`` environment variables."""
from __future__ import annotations

import os
import secrets
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from .files import make_private_folder, write_private_file


class ConfigError(Exception):
    """A setting is unknown or malformed; the message names the key and what is accepted."""


def _url(schemes: tuple[str, ...]) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if not isinstance(value, str) or not value.startswith(tuple(s + "://" for s in schemes)):
            raise ValueError("a URL starting with " + " or ".join(s + "://" for s in schemes))
        return value
    return check


def _int(low: int, high: int) -> Callable[[Any], int]:
    def check(value: Any) -> int:
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise ValueError(f"a whole number from {low} to {high}") from None
        if not low <= number <= high:
            raise ValueError(f"a whole number from {low} to {high}")
        return number
    return check


def _float(low: float, high: float) -> Callable[[Any], float]:
    def check(value: Any) -> float:
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise ValueError(f"a number from {low} to {high}") from None
        if not low <= number <= high:
            raise ValueError(f"a number from {low} to {high}")
        return number
    return check


def _choice(*choices: str) -> Callable[[Any], str]:
    def check(value: Any) -> str:
        if value not in choices:
            raise ValueError("one of " + ", ".join(choices))
        return value
    return check


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise ValueError("a non-empty string")
    return value


def _secret(value: Any) -> str:
    if not isinstance(value, str) or len(value) < 16:
        raise ValueError("a string of at least 16 characters")
    return value


def _timezone(value: Any) -> str:
    from .schemas import is_renderable_zone
    if not is_renderable_zone(value):
        raise ValueError("an IANA time zone name such as Europe/Sofia or UTC") from None
    return str(value)


def _department_ref(value: Any) -> int | str:
    if isinstance(value, bool):
        raise ValueError("a department name or id")
    if isinstance(value, int) or (isinstance(value, str) and value.strip().isdecimal() and value.strip().isascii()):
        number = int(value)
        if not 1 <= number < 2 ** 63:
            raise ValueError("a department name or a positive id")
        return number
    if not isinstance(value, str) or not value.strip():
        raise ValueError("a department name or id")
    return value.strip()


def _string_list(value: Any) -> list[str]:
    if isinstance(value, str):
        value = [part.strip() for part in value.split(",") if part.strip()]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError("a list of strings (comma-separated in the environment)")
    return value


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if str(value).lower() in ("1", "true", "yes", "on"):
        return True
    if str(value).lower() in ("0", "false", "no", "off"):
        return False
    raise ValueError("true or false")


@dataclass(frozen=True)
class Setting:
    key: str
    check: Callable[[Any], Any]
    default: Any
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting("secret_key", _secret, None, "Signs sessions and CSRF tokens. `workdesk init` writes a random one."),
    Setting("database_url", _url(("sqlite", "postgresql", "postgres")), None,
            "sqlite:///path or postgresql://user@host/db. Default: SQLite at <instance>/workdesk.db."),
    Setting("queue_url", _url(("sqlite", "redis", "postgresql", "postgres", "memory")), None,
            "Huey storage: sqlite:///path, redis://host:port/db or postgresql://... Default: <instance>/queue.db."),
    Setting("base_url", _url(("http", "https")), "http://127.0.0.1:5000", "Public address, used in links sent out."),
    Setting("default_timezone", _timezone, "UTC", "IANA zone for new users and for the demo data."),
    Setting("default_locale", _choice("en", "de", "fr", "es", "bg", "ru", "vi", "zh_Hans"), "en", "Language when a user has none."),
    Setting("intake_department", _department_ref, None,
            "Department (name or id) where someone who belongs to no department, such as a requester, files "
            "with quick create. Default: the oldest top-level department."),
    Setting("plugin_refresh_seconds", _float(0, 60), 2.0,
            "How often each process re-reads which plugins are enabled."),
    Setting("outbox_lease_seconds", _int(1, 3600), 60,
            "A worker that claims an event and dies releases it after this long."),
    Setting("outbox_poll_seconds", _float(0.05, 60), 2.0, "How often a worker looks for pending events."),
    Setting("job_lease_seconds", _int(1, 86400), 600, "How long a periodic job's lock holds if its worker dies."),
    Setting("max_content_length", _int(1024, 100 * 1024 * 1024), 1024 * 1024, "Largest accepted request body in bytes."),
    Setting("extra_plugins", _string_list, [],
            "Plugin classes loaded by import path (module:Class) besides the installed entry points."),
    Setting("log_level", _choice("DEBUG", "INFO", "WARNING", "ERROR"), "INFO", "Logging threshold."),
    Setting("secure_cookies", _bool, False, "Mark cookies Secure (set true when served over HTTPS)."),
)
SETTINGS_BY_KEY = {s.key: s for s in SETTINGS}
ENV_PREFIX = "WORKDESK_"
# Environment variables that are read before the configuration exists.
ENV_BOOTSTRAP = {"WORKDESK_INSTANCE"}


def default_instance_path() -> Path:
    return Path(os.environ.get("WORKDESK_INSTANCE") or Path.cwd() / "instance").resolve()


def _accepted_keys() -> str:
    return ", ".join(sorted(SETTINGS_BY_KEY))


def load_settings(instance_path: Path | None = None, overrides: dict | None = None,
                  environ: dict | None = None) -> dict[str, Any]:
    """Merge defaults, the instance file, the environment and ``overrides``; validate every key."""
    instance_path = Path(instance_path or default_instance_path())
    environ = os.environ if environ is None else environ
    raw: dict[str, tuple[Any, str]] = {}
    config_file = instance_path / "workdesk.toml"
    if config_file.exists():
        try:
            data = tomllib.loads(config_file.read_text())
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{config_file} is not valid TOML: {exc}. Fix the file or run `workdesk init` "
                              f"in an empty instance folder.") from None
        for key, value in data.items():
            if key not in SETTINGS_BY_KEY:
                raise ConfigError(f"Unknown setting '{key}' in {config_file}. Accepted settings: {_accepted_keys()}.")
            raw[key] = (value, str(config_file))
    for name, value in environ.items():
        if not name.startswith(ENV_PREFIX) or name in ENV_BOOTSTRAP:
            continue
        key = name[len(ENV_PREFIX):].lower()
        if key not in SETTINGS_BY_KEY:
            raise ConfigError(f"Unknown environment variable {name}. Accepted: WORKDESK_INSTANCE and "
                              + ", ".join(ENV_PREFIX + k.upper() for k in sorted(SETTINGS_BY_KEY)) + ".")
        raw[key] = (value, f"environment variable {name}")
    for key, value in (overrides or {}).items():
        if key not in SETTINGS_BY_KEY:
            raise ConfigError(f"Unknown setting '{key}'. Accepted settings: {_accepted_keys()}.")
        raw[key] = (value, "create_app(config=...)")

    settings: dict[str, Any] = {"instance_path": str(instance_path)}
    for setting in SETTINGS:
        if setting.key not in raw:
            settings[setting.key] = setting.default
            continue
        value, source = raw[setting.key]
        try:
            settings[setting.key] = setting.check(value)
        except ValueError as exc:
            raise ConfigError(f"Setting '{setting.key}' from {source} is malformed: got {value!r}, "
                              f"expected {exc}.") from None
    if settings["database_url"] is None:
        settings["database_url"] = f"sqlite:///{instance_path / 'workdesk.db'}"
    if settings["queue_url"] is None:
        settings["queue_url"] = f"sqlite:///{instance_path / 'queue.db'}"
    if settings["secret_key"] is None:
        raise ConfigError(f"Setting 'secret_key' is missing: run `workdesk init` to create {config_file}, "
                          f"or set WORKDESK_SECRET_KEY (at least 16 characters).")
    return settings


def write_instance_config(instance_path: Path, values: dict[str, Any] | None = None) -> Path:
    """Create ``workdesk.toml`` with a fresh random secret key (used by ``workdesk init``)."""
    make_private_folder(instance_path)
    config_file = instance_path / "workdesk.toml"
    values = {"secret_key": secrets.token_urlsafe(32), **(values or {})}
    lines = ["# Workdesk settings. Every key can be overridden by WORKDESK_<KEY> in the environment.\n"]
    for key, value in values.items():
        if isinstance(value, str):
            lines.append(f'{key} = "{value}"\n')
        else:
            lines.append(f"{key} = {str(value).lower() if isinstance(value, bool) else value}\n")
    write_private_file(config_file, "".join(lines))  # it holds the secret key: 0600 from the first byte
    return config_file
