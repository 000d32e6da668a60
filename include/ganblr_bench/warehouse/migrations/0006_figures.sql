-- Figures you can trust (result version 2): the reference generators, where each job ran
-- (its own cores), and a general table for every per-job figure beyond the fixed columns:
-- per-phase resources, fidelity and privacy. A new figure is a row here, not a column.

ALTER TABLE bench.job_results DROP CONSTRAINT job_results_model_check;
ALTER TABLE bench.job_results ADD CONSTRAINT job_results_model_check
    CHECK (model IN ('ganblr', 'ganblr++', 'independent', 'naive-bayes'));

-- cores: the cores the job had to itself, as a CPU list ('0', '2,3'); placement: who leased them (contract.Placement).
ALTER TABLE bench.job_results ADD COLUMN cores text, ADD COLUMN placement jsonb;

CREATE TABLE bench.job_metrics (
    job_result_id       bigint NOT NULL REFERENCES bench.job_results (job_result_id) ON DELETE CASCADE,
    metric              text NOT NULL,
    unit                text NOT NULL,
    value               double precision NOT NULL,
    PRIMARY KEY (job_result_id, metric)
);

-- Per job and figure beyond the job_results columns (final attempts only).
CREATE VIEW analytics.job_metrics AS
SELECT j.run_id, j.run_started_at, j.job, j.model, j.dataset, j.seed, j.stack, j.status, m.metric, m.unit, m.value
FROM analytics.job_results j
JOIN bench.job_metrics m USING (job_result_id);

-- Scores per classifier: accuracy, macro-F1 and ROC AUC (binary targets), TSTR beside TRTR.
CREATE OR REPLACE VIEW analytics.scores AS
SELECT j.run_id, j.run_started_at, j.job, j.model, j.dataset, j.seed, s.classifier,
       max(s.value) FILTER (WHERE s.metric = 'tstr_accuracy') AS tstr_accuracy,
       max(s.value) FILTER (WHERE s.metric = 'trtr_accuracy') AS trtr_accuracy,
       max(s.value) FILTER (WHERE s.metric = 'tstr_macro_f1') AS tstr_macro_f1,
       max(s.value) FILTER (WHERE s.metric = 'trtr_macro_f1') AS trtr_macro_f1,
       max(s.value) FILTER (WHERE s.metric = 'tstr_roc_auc') AS tstr_roc_auc,
       max(s.value) FILTER (WHERE s.metric = 'trtr_roc_auc') AS trtr_roc_auc,
       j.stack
FROM analytics.job_results j
JOIN bench.scores s USING (job_result_id)
GROUP BY j.run_id, j.run_started_at, j.job, j.model, j.dataset, j.seed, s.classifier, j.stack;

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
       j.stack, j.versions, j.image AS job_image,
       j.cores, (j.placement ->> 'peers')::integer AS peer_jobs
FROM bench.job_results j
JOIN bench.runs r USING (run_id)
WHERE j.attempt = (SELECT max(a.attempt) FROM bench.job_results a WHERE a.run_id = j.run_id AND a.job = j.job);

-- Every figure of every ok job, one row each: the fixed columns, the other scores (means over the
-- classifiers, as tstr_accuracy) and the general per-job figures.
CREATE OR REPLACE VIEW analytics.metric_history AS
SELECT j.run_id, j.run_started_at, j.model, j.dataset, j.seed, m.metric, m.unit, m.value,
       j.image_inputs_hash, j.host_cpus, j.config_hash, j.stack
FROM analytics.job_results j
CROSS JOIN LATERAL (
    VALUES
        ('image_build_s', 's', j.image_build_s),
        ('startup_s', 's', j.startup_s),
        ('fit_s', 's', j.fit_s),
        ('sample_s', 's', j.sample_s),
        ('evaluate_s', 's', j.evaluate_s),
        ('execution_s', 's', j.execution_s),
        ('peak_memory_bytes', 'bytes', j.peak_memory_bytes::double precision),
        ('cpu_percent', '%', j.cpu_percent),
        ('tstr_accuracy', 'fraction', j.tstr_accuracy_mean),
        ('trtr_accuracy', 'fraction', j.trtr_accuracy_mean)
    UNION ALL
    SELECT s.metric, 'fraction', avg(s.value) FROM bench.scores s
    WHERE s.job_result_id = j.job_result_id AND s.metric NOT IN ('tstr_accuracy', 'trtr_accuracy')
    GROUP BY s.metric
    UNION ALL
    SELECT jm.metric, jm.unit, jm.value FROM bench.job_metrics jm WHERE jm.job_result_id = j.job_result_id
) AS m (metric, unit, value)
WHERE j.status = 'ok' AND m.value IS NOT NULL;

-- j.* was expanded when the view was made: made again, it carries the new columns.
CREATE OR REPLACE VIEW analytics.latest_results AS
SELECT j.*
FROM analytics.job_results j
WHERE j.run_started_at = (SELECT max(l.run_started_at) FROM analytics.job_results l
                          WHERE l.model = j.model AND l.dataset = j.dataset AND l.stack = j.stack);
