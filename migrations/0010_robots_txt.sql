-- fetchq schema, version 10: a job may obey robots.txt.
--
-- `jobs.robots_txt` is the job's choice (`obey` or `ignore`, the service's default when the job
-- did not say), shown by the API. `tasks.obey_robots` copies it onto each of the job's tasks, the
-- appended ones too, so that a claim hands it to the engine without reading the job: the engine
-- checks an obeying GET or HEAD task against its origin's robots.txt before any request is sent.
ALTER TABLE jobs ADD COLUMN robots_txt TEXT NOT NULL DEFAULT 'ignore' CHECK (robots_txt = 'obey' OR robots_txt = 'ignore');
ALTER TABLE tasks ADD COLUMN obey_robots INTEGER NOT NULL DEFAULT 0 CHECK (obey_robots = 0 OR obey_robots = 1);
