-- fetchq schema, version 13: a job whose tasks are unique by method, URL and body.
--
-- `jobs.unique_urls` is the job's `unique_urls`. Each of its tasks carries `dedupe_key` (method,
-- URL and the SHA-256 of the body, `DuplicatePlan.key`), unique within the job: a submission or an
-- append looks a batch's keys up here (one index range) and creates only the tasks not there yet.
-- Jobs without it leave the key NULL, outside the index.
ALTER TABLE jobs ADD COLUMN unique_urls INTEGER NOT NULL DEFAULT 0 CHECK (unique_urls = 0 OR unique_urls = 1);
ALTER TABLE tasks ADD COLUMN dedupe_key TEXT;
CREATE UNIQUE INDEX tasks_dedupe ON tasks (job_seq, dedupe_key) WHERE dedupe_key IS NOT NULL;
