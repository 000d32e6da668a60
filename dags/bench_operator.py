"""The one extension of DockerOperator: host-config options provider 4.6.1 does not expose, and
failures another try cannot fix marked as final.

``host_config_extras`` reaches ``create_host_config`` unchanged (``cap_drop``, ``security_opt``,
``pids_limit``, ``read_only``, ``tmpfs``, ``memswap_limit``, and for pinned cores ``cpuset_cpus`` and
``nano_cpus``). A container that exits with one of ``backends.DETERMINISTIC_EXITS`` fails the task
without a retry; any other failure (the engine, a crash outside the job) is retried as configured.
Not a DAG file: the DAG folder's .airflowignore keeps the processor from parsing it.
"""

from __future__ import annotations

from airflow.providers.docker.exceptions import DockerContainerFailedException
from airflow.providers.docker.operators.docker import DockerOperator
from airflow.sdk.exceptions import AirflowFailException

from ganblr_bench.backends import DETERMINISTIC_EXITS


class _WithHostConfigExtras:
    """The engine client, with extra options merged into every host config it creates."""

    def __init__(self, client, extras: dict):
        self._client, self._extras = client, extras

    def create_host_config(self, **kwargs):
        return self._client.create_host_config(**{**kwargs, **self._extras})

    def __getattr__(self, name):
        return getattr(self._client, name)


class BenchDockerOperator(DockerOperator):
    def __init__(self, *, host_config_extras: dict | None = None, **kwargs) -> None:
        super().__init__(**kwargs)
        self.host_config_extras = dict(host_config_extras or {})

    @property
    def cli(self):
        return _WithHostConfigExtras(self.hook.api_client, self.host_config_extras)

    def execute(self, context):
        try:
            return super().execute(context)
        except DockerContainerFailedException as err:
            code = (self.cli.inspect_container(self.container["Id"])["State"] or {}).get("ExitCode")
            if code in DETERMINISTIC_EXITS:
                raise AirflowFailException(f"job container exited {code}: another try cannot change it; {err}") from err
            raise
