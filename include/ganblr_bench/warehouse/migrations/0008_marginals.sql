-- Each job's most distorted columns, real against synthetic (contract.ColumnMarginal), for the report's pictures:
-- a small distribution per job, kept with the job (a JSON list), not a figure.
ALTER TABLE bench.job_results ADD COLUMN marginals jsonb NOT NULL DEFAULT '[]'::jsonb;

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
       j.series_key, j.series, j.marginals
FROM bench.job_results j
JOIN bench.runs r USING (run_id)
WHERE j.final;

-- j.* was expanded when the view was made: made again, it carries the new column.
CREATE OR REPLACE VIEW analytics.latest_results AS
SELECT j.*
FROM analytics.job_results j
WHERE j.run_started_at = (SELECT max(l.run_started_at) FROM bench.job_results l
                          WHERE l.model = j.model AND l.dataset = j.dataset AND l.stack = j.stack AND l.final);
