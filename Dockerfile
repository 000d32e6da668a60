# One image runs both models: GANBLR and GANBLR++ share the Python/TensorFlow/scikit-learn stack.
#
# Build inputs (all optional):
#   BASE_IMAGE     a Python 3.11 Debian image; scripts/base-image.sh makes one locally when no registry is reachable
#   docker/extra-ca/*.crt
#                  extra CA certificates pip trusts during the build (a TLS-intercepting proxy), never kept in the image
#   docker/wheels/*.whl
#                  a wheelhouse pip prefers over the index (offline or faster builds)
#   PIP_INDEX_URL  another package index
#   TF_PACKAGE     the TensorFlow distribution: tensorflow-cpu (default); a GPU variant is this build argument
#                  (e.g. "tensorflow[and-cuda]==2.21.0") on a CUDA base image, not a second Dockerfile
ARG BASE_IMAGE=python:3.11-slim-bookworm

FROM ${BASE_IMAGE} AS build
ARG PIP_INDEX_URL
ARG TF_PACKAGE=tensorflow-cpu==2.21.0
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PIP_DEFAULT_TIMEOUT=180
COPY docker/extra-ca/ /tmp/docker/extra-ca/
COPY docker/wheels/ /tmp/docker/wheels/
RUN set -eu; \
    bundle=/etc/ssl/certs/ca-certificates.crt; \
    if ls /tmp/docker/extra-ca/*.crt >/dev/null 2>&1; then \
      cat "$bundle" /tmp/docker/extra-ca/*.crt > /tmp/ca-bundle.crt; bundle=/tmp/ca-bundle.crt; \
    fi; \
    echo "PIP_CERT=$bundle" > /tmp/pip.env; \
    python3 -m venv /opt/ganblr-bench
ENV PATH=/opt/ganblr-bench/bin:$PATH
COPY requirements-models.txt /tmp/
RUN set -eu; . /tmp/pip.env; export PIP_CERT; \
    wheels=""; if ls /tmp/docker/wheels/*.whl >/dev/null 2>&1; then wheels="--find-links /tmp/docker/wheels"; fi; \
    pip install $wheels --upgrade pip setuptools wheel; \
    sed "s/^tensorflow-cpu==.*/${TF_PACKAGE}/" /tmp/requirements-models.txt > /tmp/requirements.txt; \
    pip install $wheels -r /tmp/requirements.txt; \
    pip install $wheels --no-deps ganblr==0.1.3
COPY pyproject.toml README.md /src/
COPY include/ /src/include/
RUN pip install --no-deps --no-build-isolation /src && ganblr-bench --version

FROM ${BASE_IMAGE} AS bench
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="ganblr-bench" \
      org.opencontainers.image.description="Runs GANBLR and GANBLR++ benchmark jobs: ganblr-bench run --spec SPEC --out DIR" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      io.ganblr-bench.ganblr.version="0.1.3" \
      io.ganblr-bench.tensorflow.version="2.21.0" \
      io.ganblr-bench.scikit-learn.version="1.9.1" \
      io.ganblr-bench.python.version="3.11"
COPY --from=build /opt/ganblr-bench /opt/ganblr-bench
RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin bench \
    && mkdir -p /results /data/cache && chown bench /results
ENV PATH=/opt/ganblr-bench/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    TF_CPP_MIN_LOG_LEVEL=2 \
    MPLCONFIGDIR=/tmp \
    GANBLR_BENCH_CACHE=/data/cache \
    GANBLR_BENCH_OFFLINE=1 \
    GANBLR_BENCH_DEDICATED_CGROUP=1
USER bench
WORKDIR /home/bench
ENTRYPOINT ["ganblr-bench"]
CMD ["--help"]

# The Airflow image: the official one, extended with requirements.txt (pinned) and this
# package's core (no model stack: models run in the bench image). docker-compose.yml builds
# it with `target: airflow`; the bench image above is built with --target bench.
FROM apache/airflow:3.3.2-python3.11 AS airflow
COPY requirements.txt /tmp/requirements.txt
RUN pip install --no-cache-dir -r /tmp/requirements.txt
COPY pyproject.toml README.md /opt/ganblr-bench/src/
COPY include/ /opt/ganblr-bench/src/include/
RUN pip install --no-cache-dir --no-deps /opt/ganblr-bench/src
