-- fetchq schema, version 1: jobs, their tasks, their attempts, stored response bodies, and
-- idempotency keys.
-- Times are milliseconds since the Unix epoch (UTC). `seq` columns are internal row ids;
-- users only ever see the `id` columns (ULIDs).

CREATE TABLE jobs (
    seq          INTEGER PRIMARY KEY,
    id           TEXT    NOT NULL UNIQUE,
    task_count   INTEGER NOT NULL,
    timeout_ms   INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    finished_at  INTEGER,
    -- Counts of the job's tasks per state, kept by the trigger below.
    n_queued     INTEGER NOT NULL DEFAULT 0,
    n_running    INTEGER NOT NULL DEFAULT 0,
    n_succeeded  INTEGER NOT NULL DEFAULT 0,
    n_failed     INTEGER NOT NULL DEFAULT 0,
    n_canceled   INTEGER NOT NULL DEFAULT 0
) STRICT;

CREATE TABLE tasks (
    seq              INTEGER PRIMARY KEY,
    id               TEXT    NOT NULL UNIQUE,
    job_seq          INTEGER NOT NULL REFERENCES jobs (seq) ON DELETE CASCADE,
    position         INTEGER NOT NULL,
    -- The request to perform.
    url              TEXT    NOT NULL,
    -- Lower-cased host[:port] of the URL: the unit of per-host politeness.
    host             TEXT    NOT NULL,
    method           TEXT    NOT NULL
                     CHECK (method IN ('GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS')),
    headers          TEXT    NOT NULL DEFAULT '{}',
    body             BLOB,
    timeout_ms       INTEGER NOT NULL CHECK (timeout_ms > 0),
    -- Scheduling.
    state            TEXT    NOT NULL DEFAULT 'queued'
                     CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'canceled')),
    priority         INTEGER NOT NULL DEFAULT 0,
    attempts         INTEGER NOT NULL DEFAULT 0,
    max_attempts     INTEGER NOT NULL DEFAULT 1 CHECK (max_attempts >= 1),
    -- Backoff overrides of the job; NULL means the service's defaults.
    retry_base_ms    INTEGER,
    retry_max_ms     INTEGER,
    next_attempt_at  INTEGER NOT NULL,
    lease_expires_at INTEGER,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL,
    started_at       INTEGER,
    finished_at      INTEGER,
    -- Outcome of the last attempt.
    status_code      INTEGER,
    response_headers TEXT,
    body_bytes       INTEGER,
    body_truncated   INTEGER NOT NULL DEFAULT 0,
    duration_ms      INTEGER,
    error            TEXT,
    error_message    TEXT,
    -- Why a failed task failed: 'not_retryable' or 'attempts_exhausted'.
    failure_reason   TEXT CHECK (failure_reason IN ('not_retryable', 'attempts_exhausted'))
) STRICT;

-- "Next due task": queued tasks by priority (higher first), then in submit order.
-- Covers the host so that tasks of hosts at their limit are skipped without reading rows.
CREATE INDEX tasks_due ON tasks (priority DESC, seq, next_attempt_at, host) WHERE state = 'queued';
-- "Tasks of job X in state Y", paged by seq.
CREATE INDEX tasks_job_state ON tasks (job_seq, state, seq);
-- Leases to rescue.
CREATE INDEX tasks_running_lease ON tasks (lease_expires_at) WHERE state = 'running';

-- Response bodies, apart from the tasks so that claiming scans small rows.
CREATE TABLE task_bodies (
    task_seq     INTEGER PRIMARY KEY REFERENCES tasks (seq) ON DELETE CASCADE,
    content_type TEXT,
    body         BLOB NOT NULL
) STRICT;

-- One row per finished attempt, shown as a task's attempts_log.
CREATE TABLE task_attempts (
    task_seq      INTEGER NOT NULL REFERENCES tasks (seq) ON DELETE CASCADE,
    attempt       INTEGER NOT NULL,
    started_at    INTEGER,
    finished_at   INTEGER NOT NULL,
    status_code   INTEGER,
    duration_ms   INTEGER,
    error         TEXT,
    error_message TEXT,
    PRIMARY KEY (task_seq, attempt)
) STRICT, WITHOUT ROWID;

-- Idempotency-Key of POST /v1/jobs: the request's hash and the answer given, kept at least 24 h.
CREATE TABLE idempotency_keys (
    key          TEXT    PRIMARY KEY,
    request_hash TEXT    NOT NULL,
    status       INTEGER NOT NULL,
    response     BLOB    NOT NULL,
    created_at   INTEGER NOT NULL
) STRICT;
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

-- Keeps jobs.n_* equal to the number of the job's tasks in each state, and stamps
-- jobs.finished_at when the last task becomes final (cleared if one is queued again).
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
    UPDATE jobs SET finished_at = CASE WHEN n_queued + n_running = 0 THEN NEW.updated_at END
    WHERE seq = NEW.job_seq
      AND (finished_at IS NULL) = (n_queued + n_running = 0);
END;
