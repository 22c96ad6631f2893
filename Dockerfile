# microcred: the tool's image (web: `microcred serve`, worker: `microcred worker`).
# Build: docker build -t microcred:0.1.0 .   Deployment guide: docs/deployment.md
# Before web and worker start, run `microcred db upgrade` once per release (compose.yaml's
# `init` service, the Tutor plugin's init job, or by hand).

FROM python:3.11-slim-bookworm AS build
WORKDIR /src
COPY setup.cfg setup.py pyproject.toml README.md ./
COPY plugin ./plugin
COPY lti ./lti
COPY templates ./templates
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim-bookworm
LABEL org.opencontainers.image.title="microcred" \
      org.opencontainers.image.description="LTI 1.3 tool issuing EU micro-credentials as Open Badges 3.0" \
      org.opencontainers.image.licenses="AGPL-3.0-or-later"
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    MICROCRED_ENV=production \
    MICROCRED_INSTANCE_DIR=/var/lib/microcred \
    PROMETHEUS_MULTIPROC_DIR=/tmp/microcred-metrics \
    WEB_CONCURRENCY=2 \
    FORWARDED_ALLOW_IPS=*
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl \
    && rm -rf /wheels \
    && useradd --system --uid 10001 --user-group --home-dir /var/lib/microcred --create-home microcred
COPY --chmod=0755 deploy/docker-entrypoint.sh /usr/local/bin/microcred-entrypoint
USER 10001:10001
WORKDIR /var/lib/microcred
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4).status != 200)"]
ENTRYPOINT ["microcred-entrypoint"]
CMD ["microcred", "serve", "--host", "0.0.0.0", "--port", "8000"]
