-- fetchq's PostgreSQL schema, version 8: a job's own politeness (see the SQLite migration
-- 0011_job_politeness.sql: the job's limits, copied onto each of its tasks for the claim).
ALTER TABLE jobs ADD COLUMN host_concurrency integer CHECK (host_concurrency BETWEEN 1 AND 1000);
ALTER TABLE jobs ADD COLUMN host_interval_ms integer CHECK (host_interval_ms BETWEEN 0 AND 3600000);
ALTER TABLE tasks ADD COLUMN job_host_concurrency integer;
ALTER TABLE tasks ADD COLUMN job_host_interval_ms integer;
