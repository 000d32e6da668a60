-- Regression findings: what the detector (trends.py) concluded for a run, per series.
CREATE TABLE bench.findings (
    finding_id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id              text NOT NULL REFERENCES bench.runs (run_id) ON DELETE CASCADE,
    model               text NOT NULL,
    dataset             text NOT NULL,
    metric              text NOT NULL,
    config_hash         text NOT NULL,
    host_cpus           integer,
    value               double precision NOT NULL,
    baseline_mean       double precision NOT NULL,
    baseline_stdev      double precision NOT NULL,
    baseline_runs       integer NOT NULL CHECK (baseline_runs > 0),
    z_score             double precision NOT NULL,
    relative_change     double precision NOT NULL,
    better              text NOT NULL CHECK (better IN ('lower', 'higher')),
    verdict             text NOT NULL CHECK (verdict IN ('regression', 'improvement')),
    image_inputs_hash   text,
    baseline_image_inputs_hashes text[],
    detected_at         timestamptz NOT NULL DEFAULT now(),
    UNIQUE (run_id, model, dataset, metric, config_hash)
);

CREATE VIEW analytics.regressions AS
SELECT f.run_id, r.started_at AS run_started_at, f.model, f.dataset, f.metric, f.value, f.baseline_mean,
       f.baseline_stdev, f.baseline_runs, f.z_score, f.relative_change, f.better, f.verdict, f.config_hash,
       f.host_cpus, f.image_inputs_hash, f.baseline_image_inputs_hashes, f.detected_at
FROM bench.findings f
JOIN bench.runs r USING (run_id);
