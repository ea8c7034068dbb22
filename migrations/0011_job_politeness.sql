-- fetchq schema, version 11: a job's own politeness.
--
-- `jobs.host_concurrency` and `jobs.host_interval_ms` are the job's `per_host_concurrency` and
-- `per_host_interval_ms` (NULL: not set). Each task carries a copy (`tasks.job_host_*`), as with
-- `obey_robots`, so that a claim hands them to the engine from the rows it updates; the engine
-- counts the job's requests per host and holds the pairs at their limit out of its next claims.
ALTER TABLE jobs ADD COLUMN host_concurrency INTEGER CHECK (host_concurrency BETWEEN 1 AND 1000);
ALTER TABLE jobs ADD COLUMN host_interval_ms INTEGER CHECK (host_interval_ms BETWEEN 0 AND 3600000);
ALTER TABLE tasks ADD COLUMN job_host_concurrency INTEGER;
ALTER TABLE tasks ADD COLUMN job_host_interval_ms INTEGER;
