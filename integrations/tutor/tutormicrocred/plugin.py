"""Tutor plugin of microcred (Tutor's hooks API v1).

- builds the LMS image with ``microcred-openedx`` (the Open edX plugin) and configures it:
  webhook URL, its signing key (generated once, kept in Tutor's config), issuer;
- runs the tool beside the LMS: ``microcred`` (``microcred serve``), ``microcred-worker``
  (``microcred worker``) and, unless an external database is configured,
  ``microcred-postgres``; docker-compose (``tutor local``/``dev``) and Kubernetes (``tutor k8s``);
- at ``tutor local launch`` / ``tutor local do init``: creates the database schema
  (``microcred db upgrade``), registers the LMS as an LTI platform for every LTI component
  listed in ``MICROCRED_LTI_COMPONENTS`` and registers the LMS's webhook public key;
- serves the tool at ``MICROCRED_HOST`` through Tutor's Caddy.
"""
from __future__ import annotations

import base64
import json
import os
from importlib import resources

from tutor import hooks

from tutormicrocred import __version__

SCHEME = "{% if ENABLE_HTTPS %}https{% else %}http{% endif %}"

CONFIG_DEFAULTS = {
    "VERSION": __version__,
    "DOCKER_IMAGE": "{{ DOCKER_REGISTRY }}microcred/microcred:{{ MICROCRED_VERSION }}",
    # What the image installs (a release, or e.g. "microcred @ git+https://…@v0.1.0").
    "PIP_SPEC": "microcred=={{ MICROCRED_VERSION }}",
    # What the LMS image installs: the Open edX plugin only (Django, openedx-events, PyJWT, requests).
    "OPENEDX_PACKAGE": "microcred-openedx=={{ MICROCRED_VERSION }}",
    "HOST": "credentials.{{ LMS_HOST }}",
    "WEB_WORKERS": 2,
    "RUN_POSTGRESQL": True,
    "POSTGRESQL_IMAGE": "docker.io/postgres:16-alpine",
    "POSTGRESQL_HOST": "microcred-postgres",
    "POSTGRESQL_PORT": 5432,
    "POSTGRESQL_DATABASE": "microcred",
    "POSTGRESQL_USER": "microcred",
    "REDIS_DB": 5,
    "SYNC_EVERY": "1h",
    "WEBHOOK_SEND_PII": False,
    # One entry per Open edX LTI 1.3 component, as Studio shows them after saving it:
    # {"client_id": "…", "keyset_url": "…/public_keysets/…", "token_url": "…/token/…"}.
    "LTI_COMPONENTS": [],
}


def _new_kek() -> str:
    """A key-encryption key (urlsafe base64 of 32 random bytes), as `microcred keys new-kek`."""
    return base64.urlsafe_b64encode(os.urandom(32)).decode("ascii")


# Generated once at the first `tutor config save` and kept in config.yml afterwards.
CONFIG_UNIQUE = {
    "SECRET_KEY": "{{ 48|random_string }}",
    "KEK": _new_kek(),
    "POSTGRESQL_PASSWORD": "{{ 32|random_string }}",
    "METRICS_TOKEN": "{{ 32|random_string }}",
    # The LMS signs its course-passing webhooks with it (RS256); the tool registers its public half.
    "WEBHOOK_PRIVATE_KEY": "{{ 2048|rsa_private_key }}",
}

hooks.Filters.CONFIG_DEFAULTS.add_items([(f"MICROCRED_{k}", v) for k, v in CONFIG_DEFAULTS.items()])
hooks.Filters.CONFIG_UNIQUE.add_items([(f"MICROCRED_{k}", v) for k, v in CONFIG_UNIQUE.items()])

# --------------------------------------------------------------------------- the tool's environment
# One list for docker-compose and Kubernetes (values are Jinja templates rendered by Tutor).
ENVIRONMENT = [
    # The tool refuses an http:// base URL in production (LTI needs https): a site without
    # HTTPS (a local trial) runs it in development mode.
    ("MICROCRED_ENV", "{% if ENABLE_HTTPS %}production{% else %}development{% endif %}"),
    ("MICROCRED_BASE_URL", SCHEME + "://{{ MICROCRED_HOST }}"),
    ("MICROCRED_SECRET_KEY", "{{ MICROCRED_SECRET_KEY }}"),
    ("MICROCRED_KEK", "{{ MICROCRED_KEK }}"),
    ("DATABASE_URL", "postgresql://{{ MICROCRED_POSTGRESQL_USER }}:{{ MICROCRED_POSTGRESQL_PASSWORD }}@"
                     "{{ MICROCRED_POSTGRESQL_HOST }}:{{ MICROCRED_POSTGRESQL_PORT }}/{{ MICROCRED_POSTGRESQL_DATABASE }}"),
    ("MICROCRED_REDIS_URL", "redis://{{ REDIS_HOST }}:{{ REDIS_PORT }}/{{ MICROCRED_REDIS_DB }}"),
    ("MICROCRED_TRUSTED_PROXIES", "1"),
    ("MICROCRED_SYNC_EVERY", "{{ MICROCRED_SYNC_EVERY }}"),
    ("MICROCRED_METRICS_TOKEN", "{{ MICROCRED_METRICS_TOKEN }}"),
    ("MICROCRED_MAIL_BACKEND", "smtp"),
    ("MICROCRED_SMTP_HOST", "{{ SMTP_HOST }}"),
    ("MICROCRED_SMTP_PORT", "{{ SMTP_PORT }}"),
    ("MICROCRED_MAIL_FROM", "{{ CONTACT_EMAIL }}"),
    ("WEB_CONCURRENCY", "{{ MICROCRED_WEB_WORKERS }}"),
]

SERVE = ("rm -rf \"$PROMETHEUS_MULTIPROC_DIR\" && mkdir -p \"$PROMETHEUS_MULTIPROC_DIR\" && "
         "exec microcred serve --host 0.0.0.0 --port 8000")
SERVE_COMMAND = json.dumps(["sh", "-c", SERVE])
# docker compose interpolates $VARIABLES itself: $$ leaves one $ for the shell.
SERVE_COMPOSE = json.dumps(["sh", "-c", SERVE.replace("$", "$$")])


def _compose_env(indent: int) -> str:
    pad = " " * indent
    return "\n".join(f'{pad}{name}: "{value}"' for name, value in ENVIRONMENT)


def _k8s_env(indent: int) -> str:
    pad = " " * indent
    return "\n".join(f'{pad}- name: {name}\n{pad}  value: "{value}"' for name, value in ENVIRONMENT)


DEPENDS = '{{ [("redis", RUN_REDIS), ("microcred-postgres", MICROCRED_RUN_POSTGRESQL)]|list_if }}'

COMPOSE_SERVICES = f"""
microcred:
  image: {{{{ MICROCRED_DOCKER_IMAGE }}}}
  command: {SERVE_COMPOSE}
  environment:
{_compose_env(4)}
  restart: unless-stopped
  depends_on: {DEPENDS}
microcred-worker:
  image: {{{{ MICROCRED_DOCKER_IMAGE }}}}
  command: ["microcred", "worker"]
  environment:
{_compose_env(4)}
  restart: unless-stopped
  depends_on: {DEPENDS}
{{% if MICROCRED_RUN_POSTGRESQL %}}microcred-postgres:
  image: {{{{ MICROCRED_POSTGRESQL_IMAGE }}}}
  environment:
    POSTGRES_DB: "{{{{ MICROCRED_POSTGRESQL_DATABASE }}}}"
    POSTGRES_USER: "{{{{ MICROCRED_POSTGRESQL_USER }}}}"
    POSTGRES_PASSWORD: "{{{{ MICROCRED_POSTGRESQL_PASSWORD }}}}"
  volumes:
    - ../../data/microcred-postgres:/var/lib/postgresql/data
  restart: unless-stopped{{% endif %}}
"""

COMPOSE_JOBS = f"""
microcred-job:
  image: {{{{ MICROCRED_DOCKER_IMAGE }}}}
  environment:
{_compose_env(4)}
  depends_on: {DEPENDS}
"""

K8S_DEPLOYMENTS = f"""
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: microcred
  labels:
    app.kubernetes.io/name: microcred
spec:
  selector:
    matchLabels:
      app.kubernetes.io/name: microcred
  template:
    metadata:
      labels:
        app.kubernetes.io/name: microcred
    spec:
      securityContext:
        runAsUser: 10001
        runAsGroup: 10001
      containers:
        - name: microcred
          image: {{{{ MICROCRED_DOCKER_IMAGE }}}}
          command: {SERVE_COMMAND}
          ports:
            - containerPort: 8000
          env:
{_k8s_env(12)}
          readinessProbe:
            httpGet:
              path: /healthz
              port: 8000
          livenessProbe:
            httpGet:
              path: /healthz
              port: 8000
            initialDelaySeconds: 30
            periodSeconds: 30
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: microcred-worker
  labels:
    app.kubernetes.io/name: microcred-worker
spec:
  selector:
    matchLabels:
      app.kubernetes.io/name: microcred-worker
  template:
    metadata:
      labels:
        app.kubernetes.io/name: microcred-worker
    spec:
      securityContext:
        runAsUser: 10001
        runAsGroup: 10001
      containers:
        - name: microcred-worker
          image: {{{{ MICROCRED_DOCKER_IMAGE }}}}
          command: ["microcred", "worker"]
          env:
{_k8s_env(12)}
{{% if MICROCRED_RUN_POSTGRESQL %}}---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: microcred-postgres
  labels:
    app.kubernetes.io/name: microcred-postgres
spec:
  selector:
    matchLabels:
      app.kubernetes.io/name: microcred-postgres
  strategy:
    type: Recreate
  template:
    metadata:
      labels:
        app.kubernetes.io/name: microcred-postgres
    spec:
      containers:
        - name: microcred-postgres
          image: {{{{ MICROCRED_POSTGRESQL_IMAGE }}}}
          env:
            - name: POSTGRES_DB
              value: "{{{{ MICROCRED_POSTGRESQL_DATABASE }}}}"
            - name: POSTGRES_USER
              value: "{{{{ MICROCRED_POSTGRESQL_USER }}}}"
            - name: POSTGRES_PASSWORD
              value: "{{{{ MICROCRED_POSTGRESQL_PASSWORD }}}}"
            - name: PGDATA
              value: /var/lib/postgresql/data/pgdata
          ports:
            - containerPort: 5432
          volumeMounts:
            - mountPath: /var/lib/postgresql/data
              name: data
      volumes:
        - name: data
          persistentVolumeClaim:
            claimName: microcred-postgres{{% endif %}}
"""

K8S_SERVICES = """
---
apiVersion: v1
kind: Service
metadata:
  name: microcred
spec:
  type: ClusterIP
  ports:
    - port: 8000
      protocol: TCP
  selector:
    app.kubernetes.io/name: microcred
{% if MICROCRED_RUN_POSTGRESQL %}---
apiVersion: v1
kind: Service
metadata:
  name: microcred-postgres
spec:
  type: ClusterIP
  ports:
    - port: {{ MICROCRED_POSTGRESQL_PORT }}
      protocol: TCP
  selector:
    app.kubernetes.io/name: microcred-postgres{% endif %}
"""

K8S_VOLUMES = """
{% if MICROCRED_RUN_POSTGRESQL %}---
apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: microcred-postgres
  labels:
    app.kubernetes.io/component: volume
    app.kubernetes.io/name: microcred-postgres
spec:
  accessModes:
    - ReadWriteOnce
  resources:
    requests:
      storage: 5Gi{% endif %}
"""

K8S_JOBS = f"""
---
apiVersion: batch/v1
kind: Job
metadata:
  name: microcred-job
  labels:
    app.kubernetes.io/component: job
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
        - name: microcred
          image: {{{{ MICROCRED_DOCKER_IMAGE }}}}
          env:
{_k8s_env(12)}
"""

LMS_SETTINGS = """
# microcred: signed course-passing webhooks to the tool (tutor-contrib-microcred)
MICROCRED_WEBHOOK_URL = "%s://{{ MICROCRED_HOST }}/api/webhooks/openedx"
MICROCRED_WEBHOOK_PRIVATE_KEY = \"\"\"{{ MICROCRED_WEBHOOK_PRIVATE_KEY }}\"\"\"
MICROCRED_WEBHOOK_ISSUER = LMS_ROOT_URL
MICROCRED_WEBHOOK_SEND_PII = {{ MICROCRED_WEBHOOK_SEND_PII }}
""" % SCHEME

LMS_DOCKERFILE = """# microcred: the Open edX plugin (only Django, openedx-events, PyJWT, requests: all in edx-platform)
RUN --mount=type=cache,target=/openedx/.cache/pip,sharing=shared pip install "{{ MICROCRED_OPENEDX_PACKAGE }}"
"""

CADDYFILE = """
# microcred (tutor-contrib-microcred)
{{ MICROCRED_HOST }}{$default_site_port} {
    import proxy "microcred:8000"
}
"""

hooks.Filters.ENV_PATCHES.add_items([
    ("openedx-dockerfile-post-python-requirements", LMS_DOCKERFILE),
    ("openedx-lms-common-settings", LMS_SETTINGS),
    ("local-docker-compose-services", COMPOSE_SERVICES),
    ("local-docker-compose-jobs-services", COMPOSE_JOBS),
    ("k8s-deployments", K8S_DEPLOYMENTS),
    ("k8s-services", K8S_SERVICES),
    ("k8s-volumes", K8S_VOLUMES),
    ("k8s-jobs", K8S_JOBS),
    ("caddyfile", CADDYFILE),
])

# --------------------------------------------------------------------------- init
INIT_TASK = r"""
set -e
microcred db upgrade
LMS="{% if ENABLE_HTTPS %}https{% else %}http{% endif %}://{{ LMS_HOST }}"
{% for component in MICROCRED_LTI_COMPONENTS %}
microcred platform add --product openedx --issuer "$LMS" --client-id "{{ component.client_id }}" \
  --deployment-id "{{ component.deployment_id|default('1') }}" \
  --auth-login-url "$LMS/api/lti_consumer/v1/launch/" \
  --auth-token-url "{{ component.token_url }}" --key-set-url "{{ component.keyset_url }}" --name "{{ PLATFORM_NAME }}"
{% endfor %}
{% if MICROCRED_LTI_COMPONENTS %}
cat > /tmp/microcred-lms-webhook.pem <<'PEM'
{{ MICROCRED_WEBHOOK_PRIVATE_KEY }}
PEM
python -c "import sys; from cryptography.hazmat.primitives import serialization as s; k = s.load_pem_private_key(open('/tmp/microcred-lms-webhook.pem', 'rb').read(), None); sys.stdout.write(k.public_key().public_bytes(s.Encoding.PEM, s.PublicFormat.SubjectPublicKeyInfo).decode())" > /tmp/microcred-lms-webhook.pub.pem
rm -f /tmp/microcred-lms-webhook.pem
microcred bridge set --issuer "$LMS" --openedx-webhook-key-file /tmp/microcred-lms-webhook.pub.pem
rm -f /tmp/microcred-lms-webhook.pub.pem
{% else %}
echo "microcred: no LTI component registered yet. Add each LTI 1.3 component (Client ID, Keyset URL, Access Token URL from Studio) to MICROCRED_LTI_COMPONENTS and run: tutor local do init --limit=microcred"
{% endif %}
"""

hooks.Filters.CLI_DO_INIT_TASKS.add_item(("microcred", INIT_TASK))

# --------------------------------------------------------------------------- the image
hooks.Filters.ENV_TEMPLATE_ROOTS.add_item(str(resources.files("tutormicrocred") / "templates"))
hooks.Filters.ENV_TEMPLATE_TARGETS.add_item(("microcred/build", "plugins"))
hooks.Filters.IMAGES_BUILD.add_item(
    ("microcred", ("plugins", "microcred", "build", "microcred"), "{{ MICROCRED_DOCKER_IMAGE }}", ()))
hooks.Filters.IMAGES_PULL.add_item(("microcred", "{{ MICROCRED_DOCKER_IMAGE }}"))
hooks.Filters.IMAGES_PUSH.add_item(("microcred", "{{ MICROCRED_DOCKER_IMAGE }}"))
