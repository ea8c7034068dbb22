-- fetchq's PostgreSQL schema, version 10: a job whose tasks are unique by method, URL and body
-- (see the SQLite migration 0013_unique_urls.sql).
ALTER TABLE jobs ADD COLUMN unique_urls boolean NOT NULL DEFAULT false;
ALTER TABLE tasks ADD COLUMN dedupe_key text;
CREATE UNIQUE INDEX tasks_dedupe ON tasks (job_seq, dedupe_key) WHERE dedupe_key IS NOT NULL;
