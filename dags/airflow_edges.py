"""What both DAGs take from Airflow: the metrics database from its connection, the Docker engine through its
hook, the notifiers named by the settings. Not a DAG file: the DAG folder's .airflowignore keeps the processor
from parsing it."""

from __future__ import annotations

from ganblr_bench import settings

METRICS_CONN_ID = "ganblr_bench_metrics"


def notifiers(conf: settings.Settings) -> list:
    """The notifiers GANBLR_BENCH_NOTIFIER names (one, or a list of them): hung on a DAG's failures."""
    found = settings.load_object(conf.notifier) if conf.notifier else None
    return [] if found is None else list(found) if isinstance(found, (list, tuple)) else [found]


def metrics_dsn() -> str | None:
    """The metrics database from the Airflow connection, if one is defined (else settings/embedded)."""
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    from ganblr_bench.warehouse import database

    try:
        conn = BaseHook.get_connection(METRICS_CONN_ID)
    except AirflowNotFoundException:  # not defined: GANBLR_BENCH_DSN or the embedded server
        return None
    return database.dsn_from_parts(conn.host, conn.port, conn.login, conn.password, conn.schema, conn.extra_dejson)


def docker_client(conf: settings.Settings):
    """The engine's API client (no registry login: nothing is pulled)."""
    from airflow.providers.docker.hooks.docker import DockerHook

    return DockerHook(docker_conn_id=None, base_url=conf.docker_url).api_client
