-- fetchq schema, version 6: finished jobs are deleted after the retention period.
--
-- The retention sweep finds jobs finished before a cutoff through `jobs_finished`, and deletes their
-- tasks, whose bodies, attempts and deliveries go with them (`ON DELETE CASCADE`). Deleting a task
-- looks up the deliveries that name it: without `deliveries_task` every deleted task would scan the
-- whole deliveries table.
CREATE INDEX jobs_finished ON jobs (finished_at) WHERE finished_at IS NOT NULL;
CREATE INDEX deliveries_task ON deliveries (task_seq) WHERE task_seq IS NOT NULL;
