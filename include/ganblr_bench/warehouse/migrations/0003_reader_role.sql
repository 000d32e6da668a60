-- The read-only role for analysts and the Benchmarks page: the views, nothing else.
-- Roles are cluster-wide, so create it only once; its password comes from configuration
-- (GANBLR_BENCH_READER_PASSWORD), set by `ganblr-bench db upgrade`, never written here.
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'ganblr_bench_reader') THEN
        CREATE ROLE ganblr_bench_reader NOLOGIN;
    END IF;
END
$$;
REVOKE ALL ON SCHEMA bench FROM ganblr_bench_reader;
REVOKE ALL ON ALL TABLES IN SCHEMA bench FROM ganblr_bench_reader;
GRANT USAGE ON SCHEMA analytics TO ganblr_bench_reader;
GRANT SELECT ON ALL TABLES IN SCHEMA analytics TO ganblr_bench_reader;
-- Views that later migrations add are readable too.
ALTER DEFAULT PRIVILEGES IN SCHEMA analytics GRANT SELECT ON TABLES TO ganblr_bench_reader;
-- Views run with their owner's rights, so the reader needs no grant on bench's tables.
