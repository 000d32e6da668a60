"""A notifier for the end-to-end tests: GANBLR_BENCH_NOTIFIER=notify_probe:record_failure makes the
real DAG call it when a run fails; it appends the run id to $GANBLR_BENCH_TEST_NOTIFIED, where the
test reads it (a real callback, as a Slack or e-mail notifier would be)."""

import os


def record_failure(context) -> None:
    with open(os.environ["GANBLR_BENCH_TEST_NOTIFIED"], "a") as out:
        out.write(f"{context['dag_run'].run_id}\n")
