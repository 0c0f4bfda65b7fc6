"""The workdesk command, through real subprocesses against a real instance folder."""
import json
import os
import sqlite3
import time

from workdesk.demo import INTAKE_DEPARTMENT

from .conftest import SAMPLES


def test_help_lists_every_command(cli_instance):
    out = cli_instance("--help").stdout
    for command in ("init", "run", "worker", "tick", "db", "plugins", "user", "demo"):
        assert f"  {command} " in out


def test_init_on_an_existing_instance_changes_nothing(cli_instance):
    config = (cli_instance.instance / "workdesk.toml").read_text()
    result = cli_instance("init", "--admin-email", "other@example.com", "--admin-password", "another-pass-1")
    assert "already exists: nothing changed" in result.stdout
    assert (cli_instance.instance / "workdesk.toml").read_text() == config
    assert oct((cli_instance.instance / "workdesk.toml").stat().st_mode & 0o777) == "0o600"


def test_init_refuses_a_weak_password_before_writing_anything(tmp_path, cli_instance):
    other = tmp_path / "fresh"
    result = cli_instance("--instance", str(other), "init", "--admin-email", "a@example.com",
                          "--admin-password", "short", check=False)
    assert result.returncode == 2 and "password: At least 8 characters" in result.stderr
    assert not other.exists()


def test_db_upgrade_twice(cli_instance):
    first = cli_instance("db", "upgrade").stdout
    second = cli_instance("db", "upgrade").stdout
    from workdesk import migrate
    latest = migrate.latest_version("workdesk.migrations")
    assert f"core: up to date at {latest}" in first and first == second


def test_user_create_and_its_errors(cli_instance):
    ok = cli_instance("user", "create", "--email", "Ana@Example.com", "--name", "Ana", "--role", "agent",
                      "--password", "long-enough-1")
    assert "ana@example.com (agent)" in ok.stdout
    dup = cli_instance("user", "create", "--email", "ana@example.com", "--name", "Ana", "--password",
                       "long-enough-1", check=False)
    assert dup.returncode == 2 and "email: A user with this email exists." in dup.stderr
    role = cli_instance("user", "create", "--email", "b@example.com", "--name", "B", "--role", "boss",
                        "--password", "long-enough-1", check=False)
    assert role.returncode == 2 and "No role named boss" in role.stderr
    dept = cli_instance("user", "create", "--email", "c@example.com", "--name", "C", "--department", "Nowhere",
                        "--password", "long-enough-1", check=False)
    assert dept.returncode == 2 and "No department named 'Nowhere'" in dept.stderr
    assert "Traceback" not in dup.stderr + role.stderr + dept.stderr


def test_plugins_list_enable_disable(cli_instance):
    env = {"WORKDESK_EXTRA_PLUGINS": f"{SAMPLES}:RecorderPlugin,{SAMPLES}:IncompatiblePlugin"}
    listing = cli_instance("plugins", "list", extra_env=env).stdout
    assert "recorder" in listing and "incompatible: it supports Workdesk >=2.0" in listing
    assert "hello" in listing
    assert "    needs configuration: host" in listing  # the email plugin, before its server is set
    assert "recorder enabled." in cli_instance("plugins", "enable", "recorder", extra_env=env).stdout
    assert "recorder             1.2.0    enabled" in cli_instance("plugins", "list", extra_env=env).stdout
    refused = cli_instance("plugins", "enable", "future", extra_env=env, check=False)
    assert refused.returncode == 2 and "cannot be enabled: it supports Workdesk >=2.0" in refused.stderr
    unconfigured = cli_instance("plugins", "enable", "email", extra_env=env, check=False)
    assert unconfigured.returncode == 2
    assert "cannot be enabled before these settings are filled in: host." in unconfigured.stderr
    missing = cli_instance("plugins", "enable", "nosuch", extra_env=env, check=False)
    assert missing.returncode == 2 and "No plugin named 'nosuch'" in missing.stderr
    assert "data is kept" in cli_instance("plugins", "disable", "recorder", extra_env=env).stdout


def test_tick_runs_jobs_as_of_the_given_instant(cli_instance, tmp_path):
    log = tmp_path / "jobs.log"
    env = {"WORKDESK_EXTRA_PLUGINS": f"{SAMPLES}:RecorderPlugin", "RECORDER_JOB_LOG": str(log)}
    cli_instance("plugins", "enable", "recorder", extra_env=env)
    out = cli_instance("tick", "--at", "2026-03-29T09:00:00+03:00", extra_env=env).stdout
    assert "recorder.log_now: ran" in out
    cli_instance("tick", "--at", "2026-03-29T10:30:00Z", extra_env=env)
    runs = [json.loads(line) for line in log.read_text().splitlines()]
    assert runs == [{"now": "2026-03-29T06:00:00+00:00", "since": None},
                    {"now": "2026-03-29T10:30:00+00:00", "since": "2026-03-29T06:00:00+00:00"}]
    bad = cli_instance("tick", "--at", "tomorrow", check=False, extra_env=env)
    assert bad.returncode == 2 and "not an ISO-8601 instant" in bad.stderr
    naive = cli_instance("tick", "--at", "2026-03-29T09:00", check=False, extra_env=env)
    assert naive.returncode == 2 and "has no UTC offset" in naive.stderr


def test_commands_refuse_an_outdated_schema(tmp_path, cli_instance):
    import sqlite3
    with sqlite3.connect(cli_instance.instance / "workdesk.db") as conn:
        conn.execute("UPDATE core_schema_version SET version = 0 WHERE owner = 'core'")
    result = cli_instance("tick", check=False)
    assert result.returncode == 2 and "workdesk db upgrade" in result.stderr


def test_demo_fills_a_company(cli_instance):
    out = cli_instance("demo", timeout=300).stdout
    assert "'tasks': 300" in out and "'departments': 6" in out
    again = cli_instance("demo", check=False)
    assert again.returncode == 2 and "already loaded" in again.stderr


def test_init_demo_enables_plugins_that_need_no_configuration(tmp_path, cli_instance):
    fresh = tmp_path / "demo-instance"
    out = cli_instance("--instance", str(fresh), "init", "--demo", timeout=300).stdout
    assert "Log in as admin@example.com / workdesk-demo" in out
    assert "Left disabled until configured in the admin panel: email, mail_intake, webhooks." in out
    listing = cli_instance("--instance", str(fresh), "plugins", "list").stdout
    states = {line.split()[0]: line.split()[2] for line in listing.splitlines() if line and not line.startswith(" ")}
    assert states["recurring"] == "enabled" and states["hello"] == "enabled"
    assert states["email"] == "disabled" and states["webhooks"] == "disabled" and states["mail_intake"] == "disabled"
    # Requesters belong to no department: quick create files their tasks into the intake department.
    assert f'intake_department = "{INTAKE_DEPARTMENT}"' in (fresh / "workdesk.toml").read_text()
    with sqlite3.connect(fresh / "workdesk.db") as conn:
        assert conn.execute("SELECT COUNT(*) FROM core_department WHERE name = ?", (INTAKE_DEPARTMENT,)).fetchone() == (1,)


def test_instance_is_accepted_after_the_command_too(tmp_path, cli_instance):
    other = tmp_path / "other"
    env = {"WORKDESK_INSTANCE": str(tmp_path / "not-this-one")}
    cli_instance("init", "--admin-email", "o@example.com", "--admin-password", "long-enough-1", "--instance",
                 str(other), extra_env=env)
    assert (other / "workdesk.toml").exists()
    assert "core: up to date at" in cli_instance("db", "upgrade", f"--instance={other}", extra_env=env).stdout
    assert "hello enabled." in cli_instance("plugins", "enable", "hello", "--instance", str(other), extra_env=env).stdout
    counts = cli_instance("hello", "counts", "--days", "3", "--instance", str(other), extra_env=env)  # a plugin's
    assert "No counts yet" in counts.stdout
    created = cli_instance("user", "create", "--email", "p@example.com", "--name", "P", "--password",
                           "long-enough-1", "--instance", str(other), extra_env=env)
    assert "p@example.com (agent)" in created.stdout
    assert not (tmp_path / "not-this-one").exists()
    assert "--instance DIRECTORY Instance folder (config and SQLite files), before or after the command." in " ".join(
        cli_instance("--help").stdout.split())
    missing = cli_instance("plugins", "list", "--instance", check=False, extra_env=env)
    assert missing.returncode == 2 and "Option '--instance' requires an argument" in missing.stderr
    assert "Traceback" not in missing.stderr
