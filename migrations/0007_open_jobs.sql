-- fetchq schema, version 7: jobs larger than one request.
--
-- A job created with `"open": true` takes more tasks (`POST /v1/jobs/{id}/tasks`) until it is
-- sealed (`POST /v1/jobs/{id}/seal`) or canceled. While `open = 1` the job never finishes: the
-- count trigger below leaves `finished_at` NULL even when every task so far is final, so neither
-- `job.finished` (the trigger on `finished_at`) nor the `completed` state can come early. Sealing
-- clears `open` and stamps `finished_at` itself when nothing is queued or running by then.
ALTER TABLE jobs ADD COLUMN open INTEGER NOT NULL DEFAULT 0 CHECK (open IN (0, 1));

DROP TRIGGER tasks_count_states;

CREATE TRIGGER tasks_count_states AFTER UPDATE OF state ON tasks
WHEN OLD.state <> NEW.state
BEGIN
    UPDATE jobs SET
        n_queued    = n_queued    - (OLD.state = 'queued')    + (NEW.state = 'queued'),
        n_running   = n_running   - (OLD.state = 'running')   + (NEW.state = 'running'),
        n_succeeded = n_succeeded - (OLD.state = 'succeeded') + (NEW.state = 'succeeded'),
        n_failed    = n_failed    - (OLD.state = 'failed')    + (NEW.state = 'failed'),
        n_canceled  = n_canceled  - (OLD.state = 'canceled')  + (NEW.state = 'canceled')
    WHERE seq = NEW.job_seq;
    UPDATE jobs SET finished_at = CASE WHEN n_queued + n_running = 0 AND open = 0 THEN NEW.updated_at END
    WHERE seq = NEW.job_seq
      AND (finished_at IS NULL) = (n_queued + n_running = 0 AND open = 0);
END;
