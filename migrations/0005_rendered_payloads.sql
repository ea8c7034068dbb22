-- fetchq schema, version 5: webhook payloads are rendered by fetchq, not by SQL.
--
-- The triggers still create each delivery in the same statement as the state change behind it,
-- so none can be lost or forgotten. They now leave its payload empty and its id a placeholder;
-- before the transaction commits, fetchq renders the payload with the same code that answers
-- `GET /v1/tasks/{id}` and `GET /v1/jobs/{id}`, and gives the delivery a time-sortable id
-- (`msg_` and a ULID). Until now the payload was a second rendering, in SQL, that had drifted from
-- the API's (`body_url` beside `outcome` instead of inside it). Deliveries created before this
-- version keep their payloads and ids.

DROP TRIGGER tasks_finished_event;
DROP TRIGGER jobs_finished_event;

CREATE TRIGGER tasks_finished_event AFTER UPDATE OF state ON tasks
WHEN OLD.state <> NEW.state AND NEW.state IN ('succeeded', 'failed', 'canceled')
BEGIN
    INSERT INTO deliveries (id, job_seq, task_seq, event_type, url, payload, next_attempt_at, created_at, updated_at)
    SELECT 'pending_' || lower(hex(randomblob(12))), j.seq, NEW.seq, 'task.finished', j.callback_url, '',
        NEW.updated_at, NEW.updated_at, NEW.updated_at
    FROM jobs j
    WHERE j.seq = NEW.job_seq AND j.callback_url IS NOT NULL AND (j.callback_events & 1) <> 0;
END;

CREATE TRIGGER jobs_finished_event AFTER UPDATE OF finished_at ON jobs
WHEN OLD.finished_at IS NULL AND NEW.finished_at IS NOT NULL
     AND NEW.callback_url IS NOT NULL AND (NEW.callback_events & 2) <> 0
BEGIN
    INSERT INTO deliveries (id, job_seq, event_type, url, payload, next_attempt_at, created_at, updated_at)
    VALUES ('pending_' || lower(hex(randomblob(12))), NEW.seq, 'job.finished', NEW.callback_url, '',
        NEW.finished_at, NEW.finished_at, NEW.finished_at);
END;

-- The deliveries a transaction created and has yet to render: normally none.
CREATE INDEX deliveries_unrendered ON deliveries (seq) WHERE payload = '';
