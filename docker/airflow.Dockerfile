# The Airflow image docker-compose.yml runs: the official Airflow image (AIRFLOW_BASE_IMAGE; where it cannot be
# pulled, scripts/compose-images.sh passes the local stand-in, docker/standins) with requirements-airflow.lock
# (hash-locked: Airflow, the docker, postgres and celery providers) this package's core and the generator packages' facts. No model stack:
# models run in the bench image (../Dockerfile). Build context: the repository root.
# docker/extra-ca/*.crt (public certificates, for a TLS-intercepting proxy) serve pip here and stay in one layer.
ARG AIRFLOW_BASE_IMAGE=apache/airflow:3.3.2-python3.11
FROM ${AIRFLOW_BASE_IMAGE}
COPY docker/extra-ca/ /tmp/extra-ca/
COPY requirements-build.lock requirements-airflow.lock /tmp/req/
RUN set -eu; bundle=/etc/ssl/certs/ca-certificates.crt; \
    if ls /tmp/extra-ca/*.crt >/dev/null 2>&1; then cat "$bundle" /tmp/extra-ca/*.crt > /tmp/ca-bundle.crt; bundle=/tmp/ca-bundle.crt; fi; \
    pip install --no-cache-dir --cert "$bundle" --require-hashes --no-deps \
      -r /tmp/req/requirements-build.lock -r /tmp/req/requirements-airflow.lock; \
    rm -f /tmp/ca-bundle.crt
COPY --chown=50000:0 pyproject.toml README.md /opt/ganblr-bench/src/
COPY --chown=50000:0 include/ /opt/ganblr-bench/src/include/
COPY --chown=50000:0 generators/ /opt/ganblr-bench/src/generators/
# The generator packages come too: the scheduler plans their jobs from their entry points' facts (no model stack).
RUN pip install --no-cache-dir --no-deps --no-build-isolation /opt/ganblr-bench/src /opt/ganblr-bench/src/generators/*/ \
    && ganblr-bench --version
