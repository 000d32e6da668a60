-- Generators from outside (entry point group ganblr_bench.generators): a model is any generator's name, so the
-- list of 0006 goes; the name's form is checked where results are read (contract.JobSpec).
ALTER TABLE bench.job_results DROP CONSTRAINT job_results_model_check;

-- Every image a run's jobs ran in, one row per stack: locked, latest, candidate, or a variant's model stack
-- (a generator whose requirements conflict with ours: requirements-NAME.lock). build_s: this run's build (0 when
-- its tag existed: cached); cold: that build ran every RUN step, none from the layer cache. conflicts: why that variant could
-- not share our image, in the resolver's words (one per pin of ours its stack excludes).
CREATE TABLE bench.run_images (
    run_id              text NOT NULL REFERENCES bench.runs (run_id) ON DELETE CASCADE,
    stack               text NOT NULL,
    models_lock         text,
    ref                 text NOT NULL,
    digest              text,
    inputs_hash         text,
    build_s             double precision CHECK (build_s >= 0),
    cached              boolean,
    cold                boolean,
    size_bytes          bigint CHECK (size_bytes >= 0),
    conflicts           text[] NOT NULL DEFAULT '{}',
    PRIMARY KEY (run_id, stack)
);
CREATE INDEX run_images_cold ON bench.run_images (stack, models_lock) WHERE cold;

-- One image or several: per run and image, its size, this run's build, the newest cold build of its stack (the
-- whole stack installed: a new host, a changed lock, a pruned layer cache; in whatever run it happened), its
-- jobs' startup (median of the ok ones) and its conflicts.
CREATE VIEW analytics.run_images AS
SELECT i.run_id, i.stack, i.models_lock, i.ref, i.digest, i.inputs_hash, i.size_bytes, i.cached, i.cold,
       i.build_s AS build_s_this_run, c.build_s AS cold_build_s, c.run_id AS cold_build_run_id,
       (SELECT count(*) FROM bench.job_results j
         WHERE j.run_id = i.run_id AND j.image = i.ref AND j.final) AS jobs,
       (SELECT array_agg(DISTINCT j.model ORDER BY j.model) FROM bench.job_results j
         WHERE j.run_id = i.run_id AND j.image = i.ref AND j.final) AS models,
       (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY j.startup_s) FROM bench.job_results j
         WHERE j.run_id = i.run_id AND j.image = i.ref AND j.final AND j.status = 'ok') AS startup_s_median,
       i.conflicts
FROM bench.run_images i
LEFT JOIN LATERAL (
    SELECT b.build_s, b.run_id FROM bench.run_images b JOIN bench.runs r ON r.run_id = b.run_id
    WHERE b.stack = i.stack AND b.models_lock IS NOT DISTINCT FROM i.models_lock AND b.cold
    ORDER BY r.started_at DESC LIMIT 1
) c ON true;
COMMENT ON VIEW analytics.run_images IS
    'Per run, every image its jobs ran in: size, cold build seconds, startup of its jobs, and the resolver''s conflicts with the shared stack';
