import pytest

from workdesk.config import ConfigError, load_settings, write_instance_config

SECRET = {"WORKDESK_SECRET_KEY": "x" * 32}


def test_defaults_put_databases_in_the_instance_folder(tmp_path):
    settings = load_settings(tmp_path, environ=SECRET)
    assert settings["database_url"] == f"sqlite:///{tmp_path / 'workdesk.db'}"
    assert settings["queue_url"] == f"sqlite:///{tmp_path / 'queue.db'}"
    assert settings["default_timezone"] == "UTC"


def test_environment_overrides_the_file(tmp_path):
    write_instance_config(tmp_path, {"default_timezone": "Europe/Sofia"})
    settings = load_settings(tmp_path, environ={"WORKDESK_DEFAULT_TIMEZONE": "America/New_York"})
    assert settings["default_timezone"] == "America/New_York"
    assert len(settings["secret_key"]) >= 32  # written at random by init


def test_unknown_key_in_file_is_named(tmp_path):
    (tmp_path / "workdesk.toml").write_text('secret_key = "%s"\ndatabse_url = "sqlite:///x"\n' % ("s" * 20))
    with pytest.raises(ConfigError, match=r"Unknown setting 'databse_url'.*Accepted settings: .*database_url"):
        load_settings(tmp_path, environ={})


def test_unknown_environment_variable_is_named(tmp_path):
    with pytest.raises(ConfigError, match=r"Unknown environment variable WORKDESK_QUEUE.*WORKDESK_QUEUE_URL"):
        load_settings(tmp_path, environ={**SECRET, "WORKDESK_QUEUE": "redis://x"})


@pytest.mark.parametrize("key, value, expected", [
    ("WORKDESK_DATABASE_URL", "mysql://x", r"'database_url'.*sqlite:// or postgresql:// or postgres://"),
    ("WORKDESK_QUEUE_URL", "amqp://x", r"'queue_url'.*redis://"),
    ("WORKDESK_DEFAULT_TIMEZONE", "Mars/Olympus", r"'default_timezone'.*IANA time zone"),
    ("WORKDESK_OUTBOX_LEASE_SECONDS", "soon", r"'outbox_lease_seconds'.*whole number from 1 to 3600"),
    ("WORKDESK_DEFAULT_LOCALE", "xx", r"'default_locale'.*one of en, de, fr, es, bg"),
    ("WORKDESK_SECRET_KEY", "short", r"'secret_key'.*at least 16 characters"),
    ("WORKDESK_INTAKE_DEPARTMENT", "  ", r"'intake_department'.*a department name or id"),
    ("WORKDESK_INTAKE_DEPARTMENT", "0", r"'intake_department'.*a department name or a positive id"),
])
def test_malformed_values_name_key_and_accepted_values(tmp_path, key, value, expected):
    with pytest.raises(ConfigError, match=expected):
        load_settings(tmp_path, environ={**SECRET, key: value})


def test_missing_secret_says_how_to_fix(tmp_path):
    with pytest.raises(ConfigError, match="workdesk init"):
        load_settings(tmp_path, environ={})


def test_invalid_toml_is_reported(tmp_path):
    (tmp_path / "workdesk.toml").write_text("secret_key = \n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(tmp_path, environ={})


def test_cli_reports_config_errors_without_a_trace(cli_instance):
    result = cli_instance("plugins", "list", check=False, extra_env={"WORKDESK_LOG_LEVEL": "LOUD"})
    assert result.returncode == 2
    assert "Setting 'log_level'" in result.stderr and "one of DEBUG, INFO, WARNING, ERROR" in result.stderr
    assert "Traceback" not in result.stderr


def test_intake_department_is_a_name_or_an_id(tmp_path):
    assert load_settings(tmp_path, environ=SECRET)["intake_department"] is None
    assert load_settings(tmp_path, environ={**SECRET, "WORKDESK_INTAKE_DEPARTMENT": " 12 "})["intake_department"] == 12
    (tmp_path / "workdesk.toml").write_text('intake_department = "Front Desk"\n')
    assert load_settings(tmp_path, environ=SECRET)["intake_department"] == "Front Desk"


def test_every_offered_language_may_be_the_default(tmp_path):
    from workdesk.extensions import LANGUAGES
    for language in LANGUAGES:
        assert load_settings(tmp_path, environ={**SECRET, "WORKDESK_DEFAULT_LOCALE": language})["default_locale"] == language
