-- fetchq's PostgreSQL schema, version 1: the same jobs, tasks, attempts, bodies, deliveries and
-- settings as the SQLite engine's migrations 0001-0005, in PostgreSQL's types, plus what several
-- nodes sharing one queue need: `nodes` (each live node and its heartbeat), `leader` (the one node
-- that does maintenance, with an expiry), and on each running task the node that holds it.
--
-- Times are milliseconds since the Unix epoch (bigint), as in SQLite, so both engines store the
-- same values. Counts per state are kept by a trigger, as in SQLite.

CREATE TABLE nodes (
    id             text   PRIMARY KEY,
    host           text   NOT NULL,
    started_at     bigint NOT NULL,
    heartbeat_at   bigint NOT NULL,
    workers        integer NOT NULL
);

CREATE TABLE leader (
    name       text   PRIMARY KEY CHECK (name = 'maintenance'),
    node_id    text   NOT NULL,
    expires_at bigint NOT NULL
);

CREATE TABLE jobs (
    seq              bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id               text    NOT NULL UNIQUE,
    task_count       integer NOT NULL,
    timeout_ms       integer NOT NULL,
    created_at       bigint  NOT NULL,
    finished_at      bigint,
    n_queued         integer NOT NULL DEFAULT 0,
    n_running        integer NOT NULL DEFAULT 0,
    n_succeeded      integer NOT NULL DEFAULT 0,
    n_failed         integer NOT NULL DEFAULT 0,
    n_canceled       integer NOT NULL DEFAULT 0,
    callback_url     text,
    -- Bit 1: task.finished, bit 2: job.finished.
    callback_events  integer NOT NULL DEFAULT 0,
    callback_secret  text,
    callback_gone_at bigint
);

CREATE TABLE tasks (
    seq              bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id               text    NOT NULL UNIQUE,
    job_seq          bigint  NOT NULL REFERENCES jobs (seq) ON DELETE CASCADE,
    position         integer NOT NULL,
    url              text    NOT NULL,
    host             text    NOT NULL,
    method           text    NOT NULL
                     CHECK (method IN ('GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS')),
    headers          text    NOT NULL DEFAULT '[]',
    body             bytea,
    timeout_ms       integer NOT NULL CHECK (timeout_ms > 0),
    state            text    NOT NULL DEFAULT 'queued'
                     CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'canceled')),
    priority         integer NOT NULL DEFAULT 0,
    attempts         integer NOT NULL DEFAULT 0,
    max_attempts     integer NOT NULL DEFAULT 1 CHECK (max_attempts >= 1),
    retry_base_ms    integer,
    retry_max_ms     integer,
    next_attempt_at  bigint  NOT NULL,
    lease_expires_at bigint,
    -- The node holding a running task; its attempt is the task's `attempts` (the attempt token).
    node_id          text,
    created_at       bigint  NOT NULL,
    updated_at       bigint  NOT NULL,
    started_at       bigint,
    finished_at      bigint,
    status_code      integer,
    response_headers text,
    body_bytes       integer,
    body_truncated   boolean NOT NULL DEFAULT false,
    duration_ms      integer,
    error            text,
    error_message    text,
    failure_reason   text CHECK (failure_reason IN ('not_retryable', 'attempts_exhausted'))
);

-- The claim: due queued tasks by priority, then due time, then submit order.
CREATE INDEX tasks_due ON tasks (priority DESC, next_attempt_at, seq) WHERE state = 'queued';
CREATE INDEX tasks_job_state ON tasks (job_seq, state, seq);
CREATE INDEX tasks_running_node ON tasks (node_id) WHERE state = 'running';

CREATE TABLE task_bodies (
    task_seq     bigint PRIMARY KEY REFERENCES tasks (seq) ON DELETE CASCADE,
    content_type text,
    body         bytea  NOT NULL
);

CREATE TABLE task_attempts (
    task_seq      bigint  NOT NULL REFERENCES tasks (seq) ON DELETE CASCADE,
    attempt       integer NOT NULL,
    started_at    bigint,
    finished_at   bigint  NOT NULL,
    status_code   integer,
    duration_ms   integer,
    error         text,
    error_message text,
    PRIMARY KEY (task_seq, attempt)
);

CREATE TABLE idempotency_keys (
    key          text    PRIMARY KEY,
    request_hash text    NOT NULL,
    status       integer NOT NULL,
    response     bytea   NOT NULL,
    created_at   bigint  NOT NULL
);
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

CREATE TABLE settings (
    key   text PRIMARY KEY,
    value text NOT NULL
);

CREATE TABLE deliveries (
    seq             bigint  GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id              text    NOT NULL UNIQUE,
    job_seq         bigint  NOT NULL REFERENCES jobs (seq) ON DELETE CASCADE,
    task_seq        bigint  REFERENCES tasks (seq) ON DELETE CASCADE,
    event_type      text    NOT NULL CHECK (event_type IN ('task.finished', 'job.finished')),
    url             text    NOT NULL,
    -- Empty until fetchq renders it, in the same transaction (as in the SQLite engine).
    payload         text    NOT NULL,
    state           text    NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts        integer NOT NULL DEFAULT 0,
    next_attempt_at bigint  NOT NULL,
    created_at      bigint  NOT NULL,
    updated_at      bigint  NOT NULL,
    delivered_at    bigint,
    last_status     integer,
    last_error      text
);
CREATE INDEX deliveries_due ON deliveries (next_attempt_at, seq) WHERE state = 'pending';
CREATE INDEX deliveries_job ON deliveries (job_seq, seq);
CREATE INDEX deliveries_unrendered ON deliveries (seq) WHERE payload = '';

-- Counts per state, and the job's finished_at when its last task becomes final.
CREATE FUNCTION tasks_count_states() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE jobs SET
        n_queued    = n_queued    - (OLD.state = 'queued')::int    + (NEW.state = 'queued')::int,
        n_running   = n_running   - (OLD.state = 'running')::int   + (NEW.state = 'running')::int,
        n_succeeded = n_succeeded - (OLD.state = 'succeeded')::int + (NEW.state = 'succeeded')::int,
        n_failed    = n_failed    - (OLD.state = 'failed')::int    + (NEW.state = 'failed')::int,
        n_canceled  = n_canceled  - (OLD.state = 'canceled')::int  + (NEW.state = 'canceled')::int
    WHERE seq = NEW.job_seq;
    UPDATE jobs SET finished_at = CASE WHEN n_queued + n_running = 0 THEN NEW.updated_at END
    WHERE seq = NEW.job_seq AND (finished_at IS NULL) = (n_queued + n_running = 0);
    RETURN NULL;
END $$;

CREATE TRIGGER tasks_count_states AFTER UPDATE OF state ON tasks
FOR EACH ROW WHEN (OLD.state IS DISTINCT FROM NEW.state) EXECUTE FUNCTION tasks_count_states();

-- task.finished and job.finished deliveries, created with the change behind them.
CREATE FUNCTION tasks_finished_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO deliveries (id, job_seq, task_seq, event_type, url, payload, state, last_error,
                            next_attempt_at, created_at, updated_at)
    SELECT 'pending_' || md5(random()::text), j.seq, NEW.seq, 'task.finished', j.callback_url, '',
        CASE WHEN j.callback_gone_at IS NULL THEN 'pending' ELSE 'failed' END,
        CASE WHEN j.callback_gone_at IS NULL THEN NULL
             ELSE 'the receiver answered 410 Gone to an earlier delivery' END,
        NEW.updated_at, NEW.updated_at, NEW.updated_at
    FROM jobs j
    WHERE j.seq = NEW.job_seq AND j.callback_url IS NOT NULL AND (j.callback_events & 1) <> 0;
    RETURN NULL;
END $$;

CREATE TRIGGER tasks_finished_event AFTER UPDATE OF state ON tasks
FOR EACH ROW WHEN (OLD.state IS DISTINCT FROM NEW.state AND NEW.state IN ('succeeded', 'failed', 'canceled'))
EXECUTE FUNCTION tasks_finished_event();

CREATE FUNCTION jobs_finished_event() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO deliveries (id, job_seq, event_type, url, payload, state, last_error,
                            next_attempt_at, created_at, updated_at)
    VALUES ('pending_' || md5(random()::text), NEW.seq, 'job.finished', NEW.callback_url, '',
        CASE WHEN NEW.callback_gone_at IS NULL THEN 'pending' ELSE 'failed' END,
        CASE WHEN NEW.callback_gone_at IS NULL THEN NULL
             ELSE 'the receiver answered 410 Gone to an earlier delivery' END,
        NEW.finished_at, NEW.finished_at, NEW.finished_at);
    RETURN NULL;
END $$;

CREATE TRIGGER jobs_finished_event AFTER UPDATE OF finished_at ON jobs
FOR EACH ROW WHEN (OLD.finished_at IS NULL AND NEW.finished_at IS NOT NULL
                   AND NEW.callback_url IS NOT NULL AND (NEW.callback_events & 2) <> 0)
EXECUTE FUNCTION jobs_finished_event();
