# The candidate stack: the locked image with ganblr replaced by an engineer's build, and nothing else changed
# (run/candidate.py builds it in a context of its own: this file and the candidate under candidate/).
#   BASE       the locked image's tag (a local image: nothing is pulled)
#   CANDIDATE  what pip installs: /tmp/candidate/<wheel>, /tmp/candidate/src (a source folder) or ganblr==X
ARG BASE
FROM ${BASE}
ARG CANDIDATE
USER root
COPY candidate/ /tmp/candidate/
# --no-deps: every other package stays as locked; pip comes back from the venv's bundled wheel for this step only.
RUN set -eu; \
    python -m ensurepip >/dev/null; \
    python -m pip install -q --no-deps --no-build-isolation --no-compile --force-reinstall "$CANDIDATE"; \
    python -m pip uninstall -q -y pip; \
    rm -rf /tmp/candidate
LABEL io.ganblr-bench.stack="candidate" io.ganblr-bench.candidate="${CANDIDATE}"
USER bench
