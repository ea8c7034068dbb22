-- fetchq schema, version 2: completion webhooks through an outbox.
--
-- Events are created by triggers, in the same transaction as the state change that causes them,
-- so a crash can lose neither. Each event's body is fixed when it is created; its `id` is the
-- `webhook-id` receivers deduplicate on.

ALTER TABLE jobs ADD COLUMN callback_url TEXT;
-- Bit 1: task.finished, bit 2: job.finished.
ALTER TABLE jobs ADD COLUMN callback_events INTEGER NOT NULL DEFAULT 0;
-- A per-job signing secret (whsec_…); NULL means the service's secret. Never returned by the API.
ALTER TABLE jobs ADD COLUMN callback_secret TEXT;

-- Service-wide settings, such as the generated webhook signing secret.
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

CREATE TABLE deliveries (
    seq             INTEGER PRIMARY KEY,
    id              TEXT    NOT NULL UNIQUE,
    job_seq         INTEGER NOT NULL REFERENCES jobs (seq) ON DELETE CASCADE,
    task_seq        INTEGER REFERENCES tasks (seq) ON DELETE CASCADE,
    event_type      TEXT    NOT NULL CHECK (event_type IN ('task.finished', 'job.finished')),
    url             TEXT    NOT NULL,
    payload         TEXT    NOT NULL,
    state           TEXT    NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    -- When a pending delivery is next due; while one is being sent, the end of its lease.
    next_attempt_at INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL,
    delivered_at    INTEGER,
    last_status     INTEGER,
    last_error      TEXT
) STRICT;

CREATE INDEX deliveries_due ON deliveries (next_attempt_at, seq) WHERE state = 'pending';
CREATE INDEX deliveries_job ON deliveries (job_seq, seq);

-- task.finished: a task reached a final state.
CREATE TRIGGER tasks_finished_event AFTER UPDATE OF state ON tasks
WHEN OLD.state <> NEW.state AND NEW.state IN ('succeeded', 'failed', 'canceled')
BEGIN
    INSERT INTO deliveries (id, job_seq, task_seq, event_type, url, payload, next_attempt_at, created_at, updated_at)
    SELECT 'msg_' || lower(hex(randomblob(12))), j.seq, NEW.seq, 'task.finished', j.callback_url,
        json_object(
            'type', 'task.finished',
            'timestamp', strftime('%Y-%m-%dT%H:%M:%fZ', NEW.updated_at / 1000.0, 'unixepoch'),
            'data', json_object(
                'id', NEW.id,
                'job_id', j.id,
                'state', NEW.state,
                'failure_reason', NEW.failure_reason,
                'attempts', NEW.attempts,
                'outcome', json_object(
                    'status_code', NEW.status_code,
                    'headers', json(NEW.response_headers),
                    'body_bytes', NEW.body_bytes,
                    'body_truncated', json(CASE WHEN NEW.body_truncated THEN 'true' ELSE 'false' END),
                    'duration_ms', NEW.duration_ms,
                    'error', NEW.error,
                    'error_message', NEW.error_message
                ),
                'body_url', CASE WHEN NEW.status_code IS NULL THEN NULL ELSE '/v1/tasks/' || NEW.id || '/body' END
            )
        ),
        NEW.updated_at, NEW.updated_at, NEW.updated_at
    FROM jobs j
    WHERE j.seq = NEW.job_seq AND j.callback_url IS NOT NULL AND (j.callback_events & 1) <> 0;
END;

-- job.finished: the job's last task became final (fires in the same statement as that task's event).
CREATE TRIGGER jobs_finished_event AFTER UPDATE OF finished_at ON jobs
WHEN OLD.finished_at IS NULL AND NEW.finished_at IS NOT NULL
     AND NEW.callback_url IS NOT NULL AND (NEW.callback_events & 2) <> 0
BEGIN
    INSERT INTO deliveries (id, job_seq, event_type, url, payload, next_attempt_at, created_at, updated_at)
    VALUES ('msg_' || lower(hex(randomblob(12))), NEW.seq, 'job.finished', NEW.callback_url,
        json_object(
            'type', 'job.finished',
            'timestamp', strftime('%Y-%m-%dT%H:%M:%fZ', NEW.finished_at / 1000.0, 'unixepoch'),
            'data', json_object(
                'id', NEW.id,
                'state', 'completed',
                'task_count', NEW.task_count,
                'counts', json_object(
                    'queued', NEW.n_queued, 'running', NEW.n_running, 'succeeded', NEW.n_succeeded,
                    'failed', NEW.n_failed, 'canceled', NEW.n_canceled
                )
            )
        ),
        NEW.finished_at, NEW.finished_at, NEW.finished_at);
END;
