-- ganblr-bench metrics warehouse: the tables (ours; analysts read the views of 0002).
-- Units are in the column names: _s seconds, _bytes bytes, _percent percent.

CREATE TABLE bench.runs (
    run_id              text PRIMARY KEY,
    kind                text NOT NULL CHECK (kind IN ('scheduled', 'manual', 'cli', 'test')),
    triggered_by        text,
    dag_id              text,
    params              jsonb NOT NULL DEFAULT '{}'::jsonb,
    backend             text CHECK (backend IN ('docker', 'process')),
    started_at          timestamptz NOT NULL,
    finished_at         timestamptz,
    git_sha             text,
    image_ref           text,
    image_digest        text,
    image_inputs_hash   text,
    image_build_s       double precision CHECK (image_build_s >= 0),
    image_build_cached  boolean,
    host_name           text,
    host_cpus           integer CHECK (host_cpus > 0),
    host_memory_bytes   bigint CHECK (host_memory_bytes > 0),
    recorded_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX runs_started_at ON bench.runs (started_at DESC);

CREATE TABLE bench.job_results (
    job_result_id       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id              text NOT NULL REFERENCES bench.runs (run_id) ON DELETE CASCADE,
    job                 text NOT NULL,
    attempt             integer NOT NULL CHECK (attempt >= 1),
    model               text NOT NULL CHECK (model IN ('ganblr', 'ganblr++')),
    dataset             text NOT NULL,
    seed                bigint NOT NULL CHECK (seed >= 0),
    params              jsonb NOT NULL,
    spec                jsonb NOT NULL,
    status              text NOT NULL CHECK (status IN ('ok', 'failed', 'timeout', 'oom', 'skipped')),
    error               text,
    started_at          timestamptz NOT NULL,
    finished_at         timestamptz NOT NULL,
    startup_s           double precision,
    load_s              double precision,
    fit_s               double precision,
    sample_s            double precision,
    evaluate_s          double precision,
    execution_s         double precision,
    wall_s              double precision,
    peak_memory_bytes   bigint CHECK (peak_memory_bytes >= 0),
    memory_source       text,
    cpu_seconds         double precision,
    cpu_percent         double precision,
    cpus_available      double precision,
    cpu_percent_of_available double precision,
    versions            jsonb NOT NULL DEFAULT '{}'::jsonb,
    dataset_checksum    text,
    dataset_files       jsonb,
    train_rows          integer,
    test_rows           integer,
    synthetic_rows      integer,
    in_container        boolean,
    image               text,
    artifact_uri        text,
    -- sha256 of the canonical result: recording the same result again is a no-op.
    content_sha256      text NOT NULL,
    recorded_at         timestamptz NOT NULL DEFAULT now(),
    UNIQUE (run_id, job, attempt),
    UNIQUE (run_id, job, content_sha256),
    CHECK (status = 'ok' OR error IS NOT NULL)
);
CREATE INDEX job_results_series ON bench.job_results (model, dataset, started_at DESC);
CREATE INDEX job_results_failures ON bench.job_results (started_at DESC) WHERE status <> 'ok';

-- One row per job result, classifier and metric; room for metrics beyond accuracy.
CREATE TABLE bench.scores (
    job_result_id       bigint NOT NULL REFERENCES bench.job_results (job_result_id) ON DELETE CASCADE,
    classifier          text NOT NULL,
    metric              text NOT NULL,
    value               double precision NOT NULL,
    PRIMARY KEY (job_result_id, classifier, metric)
);
