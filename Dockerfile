# One image runs both models: GANBLR and GANBLR++ share the Python/TensorFlow/scikit-learn stack.
#
# Build inputs (all optional):
#   BASE_IMAGE     a Python 3.11 Debian image; scripts/base-image.sh makes one locally when no registry is reachable
#   STACK          locked (default): requirements-models.lock, every package pinned and hash-checked;
#                  latest: the canary, the newest releases of requirements-models.in's names (pins removed)
#   STACK_AS_OF    the day a latest build resolves for (a new day is a new build, not a stale cached layer)
#   MODELS_LOCK    another lock of the model stack: an image variant, a build argument and not a second
#                  Dockerfile. requirements-katabatic.lock (scripts/lock.sh --variant katabatic) is the stack of
#                  Katabatic's generators, which conflicts with ours (run/image.py builds it, with the wheels
#                  its lock names from the wheelhouse); requirements-models-gpu.lock (--gpu) on a CUDA base image
#                  would be a GPU variant
#   docker/extra-ca/*.crt
#                  extra CA certificates pip trusts during the build (a TLS-intercepting proxy); public
#                  certificates, left in a build layer, never trusted at run time
#   docker/wheels/*.whl
#                  a wheelhouse pip prefers over the index (offline builds); its files stay in a layer of the
#                  image (the classic builder cannot mount them for one step), so use it when there is no index
#   PIP_INDEX_URL  another package index
ARG BASE_IMAGE=python:3.11-slim-bookworm

# One stage, and the heavy work in one step: the model stack is installed, thinned and stripped in a single RUN,
# so only the lean result is ever written as a layer (a multi-stage build wrote the 3 GB unstripped stack, then
# copied the lean one across, and left the first behind as a dangling image). Our own code comes after, in a
# small layer of its own: a change to it rebuilds only that.
FROM ${BASE_IMAGE} AS bench
ARG PIP_INDEX_URL
ARG STACK=locked
ARG STACK_AS_OF=
ARG MODELS_LOCK=requirements-models.lock
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1 PIP_DEFAULT_TIMEOUT=180 DEBIAN_FRONTEND=noninteractive \
    PATH=/opt/ganblr-bench/bin:$PATH
COPY docker/extra-ca/ /tmp/docker/extra-ca/
COPY docker/wheels/ /tmp/docker/wheels/
COPY requirements-build.lock requirements-models.in ${MODELS_LOCK} /tmp/req/
# Lean: what a job never uses goes. TensorFlow's C++ headers (for compiling custom ops), libclang (TF's
# code generators), test suites, pip and wheel; and the static symbol tables of TensorFlow's shared
# libraries (strip --strip-unneeded keeps the dynamic symbols, so the code and its results are unchanged;
# binutils is installed for it, while pip downloads, and purged in the same step). pip does not byte-compile:
# compileall does it afterwards on every core (the same .pyc files, the test suites no longer among them)
# while strip runs beside it, so the lean build costs a naive one's time.
RUN set -eu; \
    (apt-get update -qq && apt-get install -y -qq --no-install-recommends binutils) >/tmp/apt.log 2>&1 & apt=$!; \
    bundle=/etc/ssl/certs/ca-certificates.crt; \
    if ls /tmp/docker/extra-ca/*.crt >/dev/null 2>&1; then \
      cat "$bundle" /tmp/docker/extra-ca/*.crt > /tmp/ca-bundle.crt; bundle=/tmp/ca-bundle.crt; \
    fi; \
    export PIP_CERT="$bundle"; \
    python3 -m venv /opt/ganblr-bench; \
    wheels=""; if ls /tmp/docker/wheels/*.whl >/dev/null 2>&1; then wheels="--find-links /tmp/docker/wheels"; fi; \
    pip install $wheels --require-hashes --no-deps -r /tmp/req/requirements-build.lock; \
    case "$STACK" in \
      locked) pip install $wheels --no-compile --require-hashes --no-deps -r "/tmp/req/$(basename "$MODELS_LOCK")" ;; \
      latest) echo "stack latest, as of ${STACK_AS_OF:-today}"; \
              sed -E -e 's/#.*//' -e 's/[=<>!~].*//' -e '/^[[:space:]]*$/d' /tmp/req/requirements-models.in > /tmp/req/latest.txt; \
              pip install $wheels --no-compile --upgrade -r /tmp/req/latest.txt; \
              pip install $wheels --no-compile --no-deps ganblr==0.1.3 ;; \
      *) echo "STACK must be locked or latest, not '$STACK'" >&2; exit 2 ;; \
    esac; \
    site=/opt/ganblr-bench/lib/python3.11/site-packages; \
    rm -rf "$site/tensorflow/include" "$site/clang" "$site"/libclang-*.dist-info; \
    find "$site" -depth -type d -name tests -exec rm -rf {} +; \
    wait "$apt" || { cat /tmp/apt.log >&2; exit 1; }; \
    find "$site/tensorflow" -name '*.so*' -type f -print0 | xargs -0 -r -n 8 -P 2 strip --strip-unneeded & strip=$!; \
    python -m compileall -q -j 0 "$site" >/dev/null || true; \
    wait "$strip"; \
    python -m pip uninstall -q -y pip wheel; \
    apt-get purge -y -qq --auto-remove binutils >/dev/null; \
    rm -rf /var/lib/apt/lists/* /var/cache/apt/* /var/log/apt /var/log/dpkg.log /tmp/ca-bundle.crt /tmp/apt.log
RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin bench \
    && mkdir -p /results /data/cache && chown bench /results
# Our code, and the generator packages under generators/ (each with its entry point: discovered as the
# scheduler discovers them): pip comes back from the venv's own bundled wheel for this step only (no network),
# then goes. That the stripped stack still samples what the unstripped one does is tests/test_image.py's to prove.
COPY pyproject.toml /src/
COPY include/ /src/include/
COPY generators/ /src/generators/
RUN set -eu; \
    python -m ensurepip >/dev/null; \
    python -m pip install -q --no-deps --no-build-isolation /src $(ls -d /src/generators/*/ 2>/dev/null); \
    python -m pip uninstall -q -y pip; \
    ganblr-bench --version
ARG VERSION=0.2.0
LABEL org.opencontainers.image.title="ganblr-bench" \
      org.opencontainers.image.description="Runs GANBLR and GANBLR++ benchmark jobs: ganblr-bench run --spec SPEC --out DIR" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      io.ganblr-bench.ganblr.version="0.1.3" \
      io.ganblr-bench.python.version="3.11" \
      io.ganblr-bench.stack="${STACK}" \
      io.ganblr-bench.models-lock="${MODELS_LOCK}"
ENV PYTHONUNBUFFERED=1 \
    TF_CPP_MIN_LOG_LEVEL=2 \
    MPLCONFIGDIR=/tmp \
    GANBLR_BENCH_CACHE=/data/cache \
    GANBLR_BENCH_OFFLINE=1 \
    GANBLR_BENCH_DEDICATED_CGROUP=1
USER bench
WORKDIR /home/bench
ENTRYPOINT ["ganblr-bench"]
CMD ["--help"]
