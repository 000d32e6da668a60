-- A history that survives upgrades and stays fast: the stored series key, the final attempt as a flag, the
-- run's start and key beside each job, and views that read them through indexes.
--
-- series_key / series: computed in code (warehouse/series.py) from a whitelist of the fields that change a
-- measurement, at record time; rows of earlier releases get theirs from the same function when this migration
-- is applied (migrate.py runs series.backfill after this file). config_hash in the views is now this key.
ALTER TABLE bench.job_results
    ADD COLUMN series_key text,
    ADD COLUMN series jsonb,
    ADD COLUMN final boolean NOT NULL DEFAULT true,
    ADD COLUMN run_started_at timestamptz;

UPDATE bench.job_results j SET run_started_at = r.started_at FROM bench.runs r WHERE r.run_id = j.run_id;
ALTER TABLE bench.job_results ALTER COLUMN run_started_at SET NOT NULL;
UPDATE bench.job_results j SET final = false
WHERE j.attempt < (SELECT max(a.attempt) FROM bench.job_results a WHERE a.run_id = j.run_id AND a.job = j.job);

-- run_key: the run's folder name (layout.run_key), so people can name a run as they see it on disk; release: the
-- ganblr-bench release that planned the run (unknown for runs before 0.2.0).
ALTER TABLE bench.runs ADD COLUMN run_key text, ADD COLUMN release text;

CREATE INDEX job_results_final ON bench.job_results (run_id, job) WHERE final;
CREATE INDEX job_results_by_series ON bench.job_results (series_key, run_started_at DESC) WHERE final AND status = 'ok';
CREATE INDEX job_results_by_model ON bench.job_results (model, dataset, stack, run_started_at DESC) WHERE final;
CREATE INDEX runs_run_key ON bench.runs (run_key);

ALTER TABLE bench.findings RENAME COLUMN config_hash TO series_key;

-- run_started_at is the job row's copy (equal to the run's start by construction), so a series' recent runs are
-- found through the index on (series_key, run_started_at).
CREATE OR REPLACE VIEW analytics.job_results AS
SELECT j.job_result_id, j.run_id, r.kind AS run_kind, j.run_started_at, j.job, j.attempt,
       j.model, j.dataset, j.seed, j.params, j.status, split_part(j.error, E'\n', 1) AS error,
       j.started_at, j.finished_at, r.image_build_s, r.image_build_cached, j.startup_s, j.fit_s, j.sample_s,
       j.evaluate_s, j.execution_s, j.wall_s, j.peak_memory_bytes, j.memory_source, j.cpu_seconds, j.cpu_percent,
       j.cpus_available, j.cpu_percent_of_available,
       (SELECT avg(s.value) FROM bench.scores s
         WHERE s.job_result_id = j.job_result_id AND s.metric = 'tstr_accuracy') AS tstr_accuracy_mean,
       (SELECT avg(s.value) FROM bench.scores s
         WHERE s.job_result_id = j.job_result_id AND s.metric = 'trtr_accuracy') AS trtr_accuracy_mean,
       j.versions ->> 'ganblr' AS ganblr_version, j.versions ->> 'tensorflow-cpu' AS tensorflow_version,
       j.versions ->> 'scikit-learn' AS sklearn_version, j.dataset_checksum, j.train_rows, j.test_rows,
       j.synthetic_rows, r.image_ref, r.image_digest, r.image_inputs_hash, r.host_cpus, r.git_sha, j.artifact_uri,
       j.series_key AS config_hash,
       j.stack, j.versions, j.image AS job_image,
       j.cores, (j.placement ->> 'peers')::integer AS peer_jobs,
       j.series_key, j.series
FROM bench.job_results j
JOIN bench.runs r USING (run_id)
WHERE j.final;

CREATE OR REPLACE VIEW analytics.latest_results AS
SELECT j.*
FROM analytics.job_results j
WHERE j.run_started_at = (SELECT max(l.run_started_at) FROM bench.job_results l
                          WHERE l.model = j.model AND l.dataset = j.dataset AND l.stack = j.stack AND l.final);

-- Every figure of every ok job (final attempt), one row each: the fixed columns, the scores (means over the
-- classifiers) and the general per-job figures, as three branches that a filter on run, series or metric reaches
-- through the indexes (no CTE: PostgreSQL would compute it whole).
CREATE OR REPLACE VIEW analytics.metric_history AS
SELECT j.run_id, j.run_started_at, j.model, j.dataset, j.seed, m.metric, m.unit, m.value,
       r.image_inputs_hash, r.host_cpus, j.series_key AS config_hash, j.stack, j.series_key, j.job_result_id
FROM bench.job_results j
JOIN bench.runs r USING (run_id)
CROSS JOIN LATERAL (
    VALUES
        ('image_build_s', 's', r.image_build_s),
        ('startup_s', 's', j.startup_s),
        ('fit_s', 's', j.fit_s),
        ('sample_s', 's', j.sample_s),
        ('evaluate_s', 's', j.evaluate_s),
        ('execution_s', 's', j.execution_s),
        ('peak_memory_bytes', 'bytes', j.peak_memory_bytes::double precision),
        ('cpu_percent', '%', j.cpu_percent)
) AS m (metric, unit, value)
WHERE j.final AND j.status = 'ok' AND m.value IS NOT NULL
UNION ALL
SELECT j.run_id, j.run_started_at, j.model, j.dataset, j.seed, s.metric, 'fraction', s.value,
       r.image_inputs_hash, r.host_cpus, j.series_key, j.stack, j.series_key, j.job_result_id
FROM bench.job_results j
JOIN bench.runs r USING (run_id)
CROSS JOIN LATERAL (
    SELECT sc.metric, avg(sc.value) AS value FROM bench.scores sc WHERE sc.job_result_id = j.job_result_id
    GROUP BY sc.metric
) AS s
WHERE j.final AND j.status = 'ok'
UNION ALL
SELECT j.run_id, j.run_started_at, j.model, j.dataset, j.seed, jm.metric, jm.unit, jm.value,
       r.image_inputs_hash, r.host_cpus, j.series_key, j.stack, j.series_key, j.job_result_id
FROM bench.job_results j
JOIN bench.runs r USING (run_id)
JOIN bench.job_metrics jm USING (job_result_id)
WHERE j.final AND j.status = 'ok';

CREATE OR REPLACE VIEW analytics.runs AS
SELECT r.run_id, r.kind, r.triggered_by, r.dag_id, r.params, r.backend, r.started_at, r.finished_at, r.git_sha,
       r.image_ref, r.image_digest, r.image_inputs_hash, r.image_build_s, r.image_build_cached, r.host_name,
       r.host_cpus, r.host_memory_bytes,
       (SELECT count(*) FROM bench.job_results j WHERE j.run_id = r.run_id AND j.final) AS jobs,
       (SELECT count(*) FROM bench.job_results j WHERE j.run_id = r.run_id AND j.final AND j.status = 'ok') AS ok_jobs,
       r.run_key, r.release
FROM bench.runs r;

CREATE OR REPLACE VIEW analytics.regressions AS
SELECT f.run_id, r.started_at AS run_started_at, f.model, f.dataset, f.metric, f.value, f.baseline_mean,
       f.baseline_stdev, f.baseline_runs, f.z_score, f.relative_change, f.better, f.verdict, f.series_key AS config_hash,
       f.host_cpus, f.image_inputs_hash, f.baseline_image_inputs_hashes, f.detected_at, f.stack, f.series_key
FROM bench.findings f
JOIN bench.runs r USING (run_id);

-- One point per run, series and figure (the mean over the run's ok seeds): what trends, the detector and analysts
-- read. Written by the recorder in the same transaction as the results it sums up (store.py), so it is never stale;
-- rows of earlier releases are summed up when this migration is applied. An image build that was skipped (0 s)
-- is not a point: it measured nothing.
CREATE TABLE bench.series_points (
    series_key          text NOT NULL,
    metric              text NOT NULL,
    run_id              text NOT NULL REFERENCES bench.runs (run_id) ON DELETE CASCADE,
    run_started_at      timestamptz NOT NULL,
    model               text NOT NULL,
    dataset             text NOT NULL,
    stack               text NOT NULL,
    host_cpus           integer NOT NULL,
    unit                text NOT NULL,
    value               double precision NOT NULL,
    seeds               integer NOT NULL CHECK (seeds > 0),
    image_inputs_hash   text
);
-- No primary key: the one writer replaces a run's points whole (under the run's lock), and a key over these texts
-- would cost more disk than the points themselves. Reads go by run (the detector, the report) or by model and
-- figure (analysts).
CREATE INDEX series_points_run ON bench.series_points (run_id);
CREATE INDEX series_points_by_model ON bench.series_points (model, dataset, stack, metric, run_started_at);

-- A figure's history, a point per run: the analysts' fast way to a series over all time.
CREATE VIEW analytics.series_history AS
SELECT p.series_key, p.metric, p.unit, p.run_id, p.run_started_at, p.model, p.dataset, p.stack, p.host_cpus,
       p.value, p.seeds, p.image_inputs_hash
FROM bench.series_points p;
