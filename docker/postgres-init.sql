-- Runs once, when the postgres service creates its data folder: the metrics database
-- beside Airflow's. Its schema comes from `ganblr-bench db upgrade` (the airflow-init service).
CREATE DATABASE ganblr_bench OWNER airflow;
