-- fetchq's PostgreSQL schema, version 2: what the SQLite engine's migrations 0006 and 0007 added,
-- so both engines keep the same columns and rules.
--
-- Open jobs (SQLite 0007): a job created with `"open": true` takes more tasks until it is sealed or
-- canceled, and never finishes while open: the count trigger leaves `finished_at` NULL even when
-- every task so far is final. Sealing clears `open` and stamps `finished_at` itself.
ALTER TABLE jobs ADD COLUMN open boolean NOT NULL DEFAULT false;

CREATE OR REPLACE FUNCTION tasks_count_states() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE jobs SET
        n_queued    = n_queued    - (OLD.state = 'queued')::int    + (NEW.state = 'queued')::int,
        n_running   = n_running   - (OLD.state = 'running')::int   + (NEW.state = 'running')::int,
        n_succeeded = n_succeeded - (OLD.state = 'succeeded')::int + (NEW.state = 'succeeded')::int,
        n_failed    = n_failed    - (OLD.state = 'failed')::int    + (NEW.state = 'failed')::int,
        n_canceled  = n_canceled  - (OLD.state = 'canceled')::int  + (NEW.state = 'canceled')::int
    WHERE seq = NEW.job_seq;
    UPDATE jobs SET finished_at = CASE WHEN n_queued + n_running = 0 AND NOT open THEN NEW.updated_at END
    WHERE seq = NEW.job_seq AND (finished_at IS NULL) = (n_queued + n_running = 0 AND NOT open);
    RETURN NULL;
END $$;

-- Retention (SQLite 0006): the sweep finds finished jobs by `finished_at`; deleting a task looks up
-- the deliveries that name it.
CREATE INDEX jobs_finished ON jobs (finished_at) WHERE finished_at IS NOT NULL;
CREATE INDEX deliveries_task ON deliveries (task_seq) WHERE task_seq IS NOT NULL;

-- The claim counts each host's running tasks across the cluster (the per-host limit holds for all
-- nodes together).
CREATE INDEX tasks_running_host ON tasks (host) WHERE state = 'running';

-- The node that holds a delivery's lease, so that a dead node's deliveries are made due again at
-- once rather than when their lease runs out.
ALTER TABLE deliveries ADD COLUMN node_id text;
