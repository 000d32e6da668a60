-- The analysts' interface: documented views in schema analytics (docs/warehouse.md).
-- Only the final attempt of each job counts in the views; earlier attempts stay in the tables.

CREATE SCHEMA analytics;

CREATE VIEW analytics.job_results AS
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
       -- what makes two jobs comparable: the spec without its seed, name and timeout
       md5((j.spec - 'seed' - 'job_id' - 'timeout_s')::text) AS config_hash
FROM bench.job_results j
JOIN bench.runs r USING (run_id)
WHERE j.attempt = (SELECT max(a.attempt) FROM bench.job_results a WHERE a.run_id = j.run_id AND a.job = j.job);

CREATE VIEW analytics.scores AS
SELECT j.run_id, j.run_started_at, j.job, j.model, j.dataset, j.seed, s.classifier,
       max(s.value) FILTER (WHERE s.metric = 'tstr_accuracy') AS tstr_accuracy,
       max(s.value) FILTER (WHERE s.metric = 'trtr_accuracy') AS trtr_accuracy
FROM analytics.job_results j
JOIN bench.scores s USING (job_result_id)
GROUP BY j.run_id, j.run_started_at, j.job, j.model, j.dataset, j.seed, s.classifier;

-- Latest result per model x dataset: every seed of the newest run that ran the pair.
CREATE VIEW analytics.latest_results AS
SELECT j.*
FROM analytics.job_results j
WHERE j.run_started_at = (SELECT max(l.run_started_at) FROM analytics.job_results l
                          WHERE l.model = j.model AND l.dataset = j.dataset);

-- The seed report's table: GANBLR beside GANBLR++ per run and dataset, means over ok seeds.
-- One pass of conditional aggregates, so a filter on run_id reaches the base tables' indexes.
CREATE VIEW analytics.model_comparison AS
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
       avg(trtr_accuracy_mean) FILTER (WHERE model = 'ganblr++' AND status = 'ok') AS ganblrpp_trtr_accuracy
FROM analytics.job_results
GROUP BY run_id, run_started_at, dataset;

-- One row per successful job and figure: the series trends and regression checks read.
CREATE VIEW analytics.metric_history AS
SELECT j.run_id, j.run_started_at, j.model, j.dataset, j.seed, m.metric, m.unit, m.value,
       j.image_inputs_hash, j.host_cpus, j.config_hash
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

CREATE VIEW analytics.failures AS
SELECT run_id, run_started_at, job, attempt, model, dataset, seed, status, error, started_at, finished_at, artifact_uri
FROM analytics.job_results
WHERE status <> 'ok';

CREATE VIEW analytics.runs AS
SELECT r.run_id, r.kind, r.triggered_by, r.dag_id, r.params, r.backend, r.started_at, r.finished_at, r.git_sha,
       r.image_ref, r.image_digest, r.image_inputs_hash, r.image_build_s, r.image_build_cached, r.host_name,
       r.host_cpus, r.host_memory_bytes,
       (SELECT count(*) FROM analytics.job_results j WHERE j.run_id = r.run_id) AS jobs,
       (SELECT count(*) FROM analytics.job_results j WHERE j.run_id = r.run_id AND j.status = 'ok') AS ok_jobs
FROM bench.runs r;
