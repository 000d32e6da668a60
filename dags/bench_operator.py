"""The one extension of DockerOperator: host-config options provider 4.6.1 does not expose, cores of its own,
and failures another try cannot fix marked as final.

``host_config_extras`` reaches ``create_host_config`` unchanged (``cap_drop``, ``security_opt``,
``pids_limit``, ``read_only``, ``tmpfs``, ``memswap_limit``). With ``cores``, the task first leases that
many cores of the engine's host (``cores.pinned``: no two running jobs share a core; it waits while
too few are free) and starts the container on them (``cpuset_cpus`` and an equal ``nano_cpus`` quota);
``placement.json`` in ``job_folder`` records them. A retry first removes what an earlier try of the same
job left running (a worker killed mid-job leaves its container computing). A container that exits with one of
``errors.FINAL_JOB_EXITS`` fails the task without a retry; any other failure (the engine, a crash
outside the job) is retried as configured. Not a DAG file: the DAG folder's .airflowignore keeps the
processor from parsing it.
"""

from __future__ import annotations

from pathlib import Path

from airflow.providers.docker.exceptions import DockerContainerFailedException
from airflow.providers.docker.operators.docker import DockerOperator
from airflow.sdk.exceptions import AirflowFailException

from ganblr_bench.errors import FINAL_JOB_EXITS
from ganblr_bench.run import containers, cores


class _WithHostConfigExtras:
    """The engine client, with extra options merged into every host config it creates."""

    def __init__(self, client, extras: dict):
        self._client, self._extras = client, extras

    def create_host_config(self, **kwargs):
        return self._client.create_host_config(**{**kwargs, **self._extras})

    def __getattr__(self, name):
        return getattr(self._client, name)


class BenchDockerOperator(DockerOperator):
    def __init__(
        self,
        *,
        host_config_extras: dict | None = None,
        cores: int | None = None,
        job_folder: str | None = None,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        self.host_config_extras = dict(host_config_extras or {})
        self.cores, self.job_folder = cores, job_folder

    @property
    def cli(self):
        return _WithHostConfigExtras(self.hook.api_client, self.host_config_extras)

    def execute(self, context):
        labels = self.labels or {}
        job = labels.get(containers.JOB_LABEL) or self.task_id
        if labels.get(containers.RUN_LABEL):
            for name in containers.remove_earlier_tries(self.hook.api_client, labels[containers.RUN_LABEL], job):
                print(f"{job}: removed {name}, left running by an earlier try")
        if not self.cores:
            return self._run(context)
        engine = self.hook.api_client.info()
        with cores.pinned(
            Path(self.job_folder) if self.job_folder else None,
            job,
            self.cores,
            engine.get("NCPU"),
            engine.get("Name"),
            engine.get("ID", ""),
        ) as held:
            self.host_config_extras |= containers.docker_pinning(held)
            print(f"{job}: cores {held} of the engine's host")
            return self._run(context)

    def _run(self, context):
        try:
            return super().execute(context)
        except DockerContainerFailedException as err:
            code = (self.cli.inspect_container(self.container["Id"])["State"] or {}).get("ExitCode")
            if code in FINAL_JOB_EXITS:
                raise AirflowFailException(f"job container exited {code}: another try cannot change it; {err}") from err
            raise
