import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = "tests.core.sample_plugins"
SAMPLE_PLUGINS = [f"{SAMPLES}:{cls}" for cls in
                  ("RecorderPlugin", "RaisingPlugin", "IncompatiblePlugin", "VetoPlugin", "ProposerPlugin")]


@pytest.fixture
def workdesk_config(workdesk_config):
    return {**workdesk_config, "extra_plugins": SAMPLE_PLUGINS}


@pytest.fixture
def cli_instance(tmp_path):
    """A real instance folder made by `workdesk init`, and a function running the CLI against it."""
    instance = tmp_path / "instance"
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKDESK_")}
    env.update(WORKDESK_INSTANCE=str(instance), PYTHONPATH=str(ROOT), WORKDESK_PLUGIN_REFRESH_SECONDS="0")

    def run(*args, check=True, extra_env=None, timeout=60):
        result = subprocess.run([sys.executable, "-m", "workdesk.cli", *args], capture_output=True, text=True,
                                env={**env, **(extra_env or {})}, timeout=timeout, cwd=str(ROOT))
        if check and result.returncode != 0:
            raise AssertionError(f"workdesk {' '.join(args)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
        return result

    run("init", "--admin-email", "boss@example.com", "--admin-password", "correct-horse-1")
    run.instance = instance
    run.env = env
    return run
