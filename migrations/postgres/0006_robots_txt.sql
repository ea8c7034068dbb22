-- fetchq's PostgreSQL schema, version 6: a job may obey robots.txt (see the SQLite migration
-- 0010_robots_txt.sql: the job's choice, copied onto each of its tasks for the claim).
ALTER TABLE jobs ADD COLUMN robots_txt text NOT NULL DEFAULT 'ignore' CHECK (robots_txt IN ('obey', 'ignore'));
ALTER TABLE tasks ADD COLUMN obey_robots boolean NOT NULL DEFAULT false;
