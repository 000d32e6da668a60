-- The library stack a job ran on: 'locked' (the hash-locked pins) or 'latest' (the canary:
-- the newest releases of the direct requirements). Earlier results were all locked.
ALTER TABLE bench.job_results
    ADD COLUMN stack text NOT NULL DEFAULT 'locked' CHECK (stack IN ('locked', 'latest'));

-- The stack joins the views as their last column. config_hash leaves it out, so the locked
-- series continue across this migration; series are keyed by config_hash and stack.
CREATE OR REPLACE VIEW analytics.job_results AS
SELECT j.job_result_id, j.run_id, r.kind AS run_kind, r.started_at AS run_started_at, j.job, j.attempt,
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
       md5((j.spec - 'seed' - 'job_id' - 'timeout_s' - 'stack')::text) AS config_hash,
       j.stack, j.versions, j.image AS job_image
FROM bench.job_results j
JOIN bench.runs r USING (run_id)
WHERE j.attempt = (SELECT max(a.attempt) FROM bench.job_results a WHERE a.run_id = j.run_id AND a.job = j.job);

CREATE OR REPLACE VIEW analytics.latest_results AS
SELECT j.*
FROM analytics.job_results j
WHERE j.run_started_at = (SELECT max(l.run_started_at) FROM analytics.job_results l
                          WHERE l.model = j.model AND l.dataset = j.dataset AND l.stack = j.stack);

CREATE OR REPLACE VIEW analytics.model_comparison AS
SELECT run_id, run_started_at, dataset, max(image_build_s) AS image_build_s,
       count(*) FILTER (WHERE model = 'ganblr') AS ganblr_jobs,
       count(*) FILTER (WHERE model = 'ganblr' AND status = 'ok') AS ganblr_ok_jobs,
       count(*) FILTER (WHERE model = 'ganblr++') AS ganblrpp_jobs,
       count(*) FILTER (WHERE model = 'ganblr++' AND status = 'ok') AS ganblrpp_ok_jobs,
       avg(startup_s) FILTER (WHERE model = 'ganblr' AND status = 'ok') AS ganblr_startup_s,
       avg(startup_s) FILTER (WHERE model = 'ganblr++' AND status = 'ok') AS ganblrpp_startup_s,
       (avg(peak_memory_bytes) FILTER (WHERE model = 'ganblr' AND status = 'ok'))::double precision
           AS ganblr_peak_memory_bytes,
       (avg(peak_memory_bytes) FILTER (WHERE model = 'ganblr++' AND status = 'ok'))::double precision
           AS ganblrpp_peak_memory_bytes,
       avg(cpu_percent) FILTER (WHERE model = 'ganblr' AND status = 'ok') AS ganblr_cpu_percent,
       avg(cpu_percent) FILTER (WHERE model = 'ganblr++' AND status = 'ok') AS ganblrpp_cpu_percent,
       avg(execution_s) FILTER (WHERE model = 'ganblr' AND status = 'ok') AS ganblr_execution_s,
       avg(execution_s) FILTER (WHERE model = 'ganblr++' AND status = 'ok') AS ganblrpp_execution_s,
       avg(tstr_accuracy_mean) FILTER (WHERE model = 'ganblr' AND status = 'ok') AS ganblr_tstr_accuracy,
       avg(tstr_accuracy_mean) FILTER (WHERE model = 'ganblr++' AND status = 'ok') AS ganblrpp_tstr_accuracy,
       avg(trtr_accuracy_mean) FILTER (WHERE model = 'ganblr' AND status = 'ok') AS ganblr_trtr_accuracy,
       avg(trtr_accuracy_mean) FILTER (WHERE model = 'ganblr++' AND status = 'ok') AS ganblrpp_trtr_accuracy,
       stack
FROM analytics.job_results
GROUP BY run_id, run_started_at, dataset, stack;

CREATE OR REPLACE VIEW analytics.metric_history AS
SELECT j.run_id, j.run_started_at, j.model, j.dataset, j.seed, m.metric, m.unit, m.value,
       j.image_inputs_hash, j.host_cpus, j.config_hash, j.stack
FROM analytics.job_results j
CROSS JOIN LATERAL (VALUES
    ('image_build_s', 's', j.image_build_s),
    ('startup_s', 's', j.startup_s),
    ('fit_s', 's', j.fit_s),
    ('sample_s', 's', j.sample_s),
    ('execution_s', 's', j.execution_s),
    ('peak_memory_bytes', 'bytes', j.peak_memory_bytes::double precision),
    ('cpu_percent', '%', j.cpu_percent),
    ('tstr_accuracy', 'fraction', j.tstr_accuracy_mean),
    ('trtr_accuracy', 'fraction', j.trtr_accuracy_mean)
) AS m (metric, unit, value)
WHERE j.status = 'ok' AND m.value IS NOT NULL;

CREATE OR REPLACE VIEW analytics.failures AS
SELECT run_id, run_started_at, job, attempt, model, dataset, seed, status, error, started_at, finished_at, artifact_uri,
       stack
FROM analytics.job_results
WHERE status <> 'ok';

-- Findings are per series, and a series is per stack.
ALTER TABLE bench.findings ADD COLUMN stack text NOT NULL DEFAULT 'locked';
ALTER TABLE bench.findings DROP CONSTRAINT findings_run_id_model_dataset_metric_config_hash_key;
ALTER TABLE bench.findings ADD UNIQUE (run_id, model, dataset, metric, config_hash, stack);

CREATE OR REPLACE VIEW analytics.regressions AS
SELECT f.run_id, r.started_at AS run_started_at, f.model, f.dataset, f.metric, f.value, f.baseline_mean,
       f.baseline_stdev, f.baseline_runs, f.z_score, f.relative_change, f.better, f.verdict, f.config_hash,
       f.host_cpus, f.image_inputs_hash, f.baseline_image_inputs_hashes, f.detected_at, f.stack
FROM bench.findings f
JOIN bench.runs r USING (run_id);
