"""tutor-contrib-microcred with the current Tutor, installed from the package index into a new
virtual environment (once per run, about a minute, seconds with pip's cache): the plugin loads,
its settings have defaults, `tutor config save` renders its patches and templates, the rendered
docker-compose and Kubernetes files parse and reference the right images, commands and
environment, and the init task, run against the real `microcred` command, creates the schema,
registers the LMS as an LTI platform and its webhook key."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from plugin.cli import cli
from tests.distributions import new_venv_with

REPO = Path(__file__).resolve().parents[3]
SOURCE = REPO / "integrations" / "tutor"
IMAGE = "docker.io/microcred/microcred:0.1.0"


@pytest.fixture(scope="module")
def tutor_bin(tmp_path_factory) -> Path:
    return new_venv_with(tmp_path_factory.mktemp("tutor"), SOURCE)


def tutor(bin_dir: Path, root: Path, *args: str) -> str:
    env = {"PATH": f"{bin_dir}:/usr/bin:/bin", "HOME": str(root.parent), "TUTOR_ROOT": str(root),
           "TUTOR_PLUGINS_ROOT": str(root.parent / "plugins"), "LANG": "C.UTF-8"}
    done = subprocess.run([str(bin_dir / "tutor"), *args], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.fixture(scope="module")
def project(tutor_bin, tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("tutor-project") / "root"
    root.mkdir()
    assert "microcred" in tutor(tutor_bin, root, "plugins", "list")
    tutor(tutor_bin, root, "plugins", "enable", "microcred")
    tutor(tutor_bin, root, "config", "save", "--set", "LMS_HOST=lms.example.org", "--set", "ENABLE_HTTPS=true")
    return root


def _yaml_documents(path: Path) -> dict[str, dict]:
    return {d["metadata"]["name"]: d for d in yaml.safe_load_all(path.read_text()) if d}


def test_settings_have_defaults_and_secrets_are_generated_once(tutor_bin, project):
    config = yaml.safe_load((project / "config.yml").read_text())
    for name in ("MICROCRED_SECRET_KEY", "MICROCRED_KEK", "MICROCRED_POSTGRESQL_PASSWORD", "MICROCRED_METRICS_TOKEN",
                 "MICROCRED_WEBHOOK_PRIVATE_KEY"):
        assert config[name], name
    assert tutor(tutor_bin, project, "config", "printvalue", "MICROCRED_HOST").strip() == "credentials.lms.example.org"
    assert tutor(tutor_bin, project, "config", "printvalue", "MICROCRED_RUN_POSTGRESQL").strip() == "true"
    assert json.loads(tutor(tutor_bin, project, "config", "printvalue", "MICROCRED_LTI_COMPONENTS")) == []
    tutor(tutor_bin, project, "config", "save")
    assert yaml.safe_load((project / "config.yml").read_text())["MICROCRED_KEK"] == config["MICROCRED_KEK"]
    from plugin.storage.secrets import SecretBox
    SecretBox([config["MICROCRED_KEK"]])  # a key the tool accepts


def test_compose_runs_serve_worker_and_postgresql_with_the_tool_environment(project):
    compose = yaml.safe_load((project / "env" / "local" / "docker-compose.yml").read_text())["services"]
    web, worker, db = compose["microcred"], compose["microcred-worker"], compose["microcred-postgres"]
    assert web["image"] == worker["image"] == IMAGE and db["image"].startswith("docker.io/postgres:")
    assert web["command"][:2] == ["sh", "-c"] and web["command"][2].endswith(
        "exec microcred serve --host 0.0.0.0 --port 8000") and "$$PROMETHEUS_MULTIPROC_DIR" in web["command"][2]
    assert worker["command"] == ["microcred", "worker"]
    assert CliRunner().invoke(cli, ["serve", "--host", "0.0.0.0", "--port", "8000", "--help"]).exit_code == 0
    assert set(web["depends_on"]) == {"redis", "microcred-postgres"}
    env = web["environment"]
    assert worker["environment"] == env
    config = yaml.safe_load((project / "config.yml").read_text())
    assert env["MICROCRED_ENV"] == "production" and env["MICROCRED_BASE_URL"] == "https://credentials.lms.example.org"
    assert env["DATABASE_URL"] == (f"postgresql://microcred:{config['MICROCRED_POSTGRESQL_PASSWORD']}"
                                   "@microcred-postgres:5432/microcred")
    assert env["MICROCRED_REDIS_URL"] == "redis://redis:6379/5" and env["MICROCRED_KEK"] == config["MICROCRED_KEK"]
    assert db["environment"]["POSTGRES_PASSWORD"] == config["MICROCRED_POSTGRESQL_PASSWORD"]
    settings_doc = (REPO / "docs" / "settings.md").read_text()
    for name in env:
        assert f"| `{name}` |" in settings_doc, f"{name} is not in docs/settings.md"
    jobs = yaml.safe_load((project / "env" / "local" / "docker-compose.jobs.yml").read_text())["services"]
    assert jobs["microcred-job"]["image"] == IMAGE and jobs["microcred-job"]["environment"] == env
    # The tool answers behind Caddy at its own host.
    assert 'credentials.lms.example.org{$default_site_port} {\n    import proxy "microcred:8000"' in (
        project / "env" / "apps" / "caddy" / "Caddyfile").read_text()


def test_kubernetes_deployments_services_volume_and_job(project):
    k8s = project / "env" / "k8s"
    deployments = _yaml_documents(k8s / "deployments.yml")
    web = deployments["microcred"]["spec"]["template"]["spec"]
    worker = deployments["microcred-worker"]["spec"]["template"]["spec"]
    assert web["securityContext"]["runAsUser"] == 10001
    (container,) = web["containers"]
    assert container["image"] == IMAGE and container["command"][2].endswith("exec microcred serve --host 0.0.0.0 --port 8000")
    assert container["readinessProbe"]["httpGet"] == {"path": "/healthz", "port": 8000}
    assert worker["containers"][0]["command"] == ["microcred", "worker"]
    env = {e["name"]: e["value"] for e in container["env"]}
    assert env["DATABASE_URL"].endswith("@microcred-postgres:5432/microcred")
    assert {e["name"]: e["value"] for e in worker["containers"][0]["env"]} == env
    assert deployments["microcred-postgres"]["spec"]["template"]["spec"]["volumes"][0]["persistentVolumeClaim"] == {
        "claimName": "microcred-postgres"}
    services = _yaml_documents(k8s / "services.yml")
    assert services["microcred"]["spec"]["ports"][0]["port"] == 8000
    assert services["microcred-postgres"]["spec"]["ports"][0]["port"] == 5432
    assert "microcred-postgres" in _yaml_documents(k8s / "volumes.yml")
    job = _yaml_documents(k8s / "jobs.yml")["microcred-job"]["spec"]["template"]["spec"]["containers"][0]
    assert job["image"] == IMAGE and {e["name"]: e["value"] for e in job["env"]} == env


def test_the_lms_image_and_settings_get_the_open_edx_plugin(project):
    dockerfile = (project / "env" / "build" / "openedx" / "Dockerfile").read_text()
    assert 'pip install "microcred-openedx==0.1.0"' in dockerfile
    settings = (project / "env" / "apps" / "openedx" / "settings" / "lms" / "production.py").read_text()
    namespace = {"LMS_ROOT_URL": "https://lms.example.org"}
    exec(compile(settings[settings.index("# microcred:"):].split("\n\n")[0], "production.py", "exec"), namespace)
    assert namespace["MICROCRED_WEBHOOK_URL"] == "https://credentials.lms.example.org/api/webhooks/openedx"
    assert namespace["MICROCRED_WEBHOOK_ISSUER"] == "https://lms.example.org"
    key = serialization.load_pem_private_key(namespace["MICROCRED_WEBHOOK_PRIVATE_KEY"].encode(), None)
    assert isinstance(key, rsa.RSAPrivateKey)
    image = (project / "env" / "plugins" / "microcred" / "build" / "microcred" / "Dockerfile").read_text()
    assert 'pip install --no-cache-dir "microcred==0.1.0"' in image and "USER 10001" in image


def test_an_external_database_replaces_the_postgresql_service(tutor_bin, tmp_path):
    root = tmp_path / "root"
    root.mkdir()
    tutor(tutor_bin, root, "plugins", "enable", "microcred")
    tutor(tutor_bin, root, "config", "save", "--set", "MICROCRED_RUN_POSTGRESQL=false",
          "--set", "MICROCRED_POSTGRESQL_HOST=db.example.org")
    compose = yaml.safe_load((root / "env" / "local" / "docker-compose.yml").read_text())["services"]
    assert "microcred-postgres" not in compose and compose["microcred"]["depends_on"] == ["redis"]
    assert "@db.example.org:5432/microcred" in compose["microcred"]["environment"]["DATABASE_URL"]
    assert compose["microcred"]["environment"]["MICROCRED_ENV"] == "development"  # no HTTPS: a trial
    assert "microcred-postgres" not in _yaml_documents(root / "env" / "k8s" / "deployments.yml")


def test_init_creates_the_schema_and_registers_the_lms_and_its_webhook_key(tutor_bin, project, tmp_path):
    component = {"client_id": "c0ffee-1", "keyset_url": "https://lms.example.org/api/lti_consumer/v1/public_keysets/k1",
                 "token_url": "https://lms.example.org/api/lti_consumer/v1/token/k1"}
    tutor(tutor_bin, project, "config", "save", "--set", f"MICROCRED_LTI_COMPONENTS={json.dumps([component])}")
    out = subprocess.run([str(tutor_bin / "python"), str(SOURCE / "tests" / "render_init_task.py"), str(project)],
                         capture_output=True, text=True, check=True, env={"TUTOR_ROOT": str(project), "PATH": "/usr/bin:/bin"})
    ((service, script),) = json.loads(out.stdout)
    assert service == "microcred" and "microcred db upgrade" in script

    # Run the rendered task as the job container would, with the real `microcred` command
    # (the tool's environment from the rendered compose file, on a database of this test).
    compose = yaml.safe_load((project / "env" / "local" / "docker-compose.jobs.yml").read_text())["services"]
    env = dict(compose["microcred-job"]["environment"])
    env.update(DATABASE_URL=f"sqlite:///{tmp_path / 'tool.sqlite3'}", MICROCRED_INSTANCE_DIR=str(tmp_path / "instance"),
               PATH=f"{Path(sys.executable).parent}:/usr/bin:/bin", HOME=str(tmp_path))
    env.pop("MICROCRED_REDIS_URL")
    done = subprocess.run(["bash", "-c", script], env=env, capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    from plugin.services import build_services
    from plugin.settings import Settings
    from plugin.storage.models import Platform
    services = build_services(Settings.from_env({k: v for k, v in env.items() if k != "PATH"}), migrate_schema=False)
    try:
        with services.session() as s:
            (platform,) = s.query(Platform).all()
            assert (platform.issuer, platform.client_id, platform.product) == (
                "https://lms.example.org", "c0ffee-1", "openedx")
            assert platform.key_set_url == component["keyset_url"]
            (jwk,) = platform.bridge_settings["openedx"]["webhook_jwks"]["keys"]
    finally:
        services.engine.dispose()
    config = yaml.safe_load((project / "config.yml").read_text())
    private = serialization.load_pem_private_key(config["MICROCRED_WEBHOOK_PRIVATE_KEY"].encode(), None)
    assert jwk["kty"] == "RSA" and jwk["n"] and jwk["alg"] == "RS256"
    import jwt
    assert jwt.PyJWK(jwk).key.public_numbers() == private.public_key().public_numbers()
