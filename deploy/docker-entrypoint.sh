#!/bin/sh
# The image's entry point: start each container with an empty Prometheus multiprocess
# folder (counts of a previous run's processes must not be added again), then run the
# command (`microcred serve ...` by default, `microcred worker`, `microcred db upgrade`).
set -eu
if [ -n "${PROMETHEUS_MULTIPROC_DIR:-}" ]; then
    rm -rf "${PROMETHEUS_MULTIPROC_DIR:?}"
    mkdir -p "$PROMETHEUS_MULTIPROC_DIR"
fi
exec "$@"
