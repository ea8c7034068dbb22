-- fetchq schema, version 9: pausing jobs and hosts.
--
-- A paused job (`jobs.paused = 1`) starts none of its queued tasks: they are held
-- (`tasks.held = 1`) and `tasks_due`, which the claim reads, now leaves held tasks out, so a paused
-- job of a million queued tasks costs a claim nothing (it never walks past them). Pausing marks the
-- job's queued tasks held and resuming clears them, each one range of `tasks_job_state`. A task
-- that becomes queued later while its job is paused (a retry, a lost attempt, a re-run, a task
-- given back at shutdown) is held by the trigger below, whichever statement queued it; a task
-- appended to a paused job is inserted held. `held` means nothing outside `queued`: the trigger
-- sets it afresh each time a task enters `queued`. Delayed tasks keep their own `waiting` mark
-- (0003): a held task may also be waiting, and is claimable only once neither holds it.
--
-- `host_pauses` holds the pauses made with `POST /v1/hosts/{host}/pause`, so that they survive a
-- restart: the claim skips a host while `until > now`; resuming deletes the row. (A host's own
-- 429/503 Retry-After pause stays in the engine's memory on SQLite, as before.)
ALTER TABLE jobs ADD COLUMN paused INTEGER NOT NULL DEFAULT 0 CHECK (paused IN (0, 1));
ALTER TABLE tasks ADD COLUMN held INTEGER NOT NULL DEFAULT 0 CHECK (held IN (0, 1));

DROP INDEX tasks_due;
CREATE INDEX tasks_due ON tasks (priority DESC, seq, next_attempt_at, host)
WHERE state = 'queued' AND waiting = 0 AND held = 0;

CREATE TRIGGER tasks_hold_paused AFTER UPDATE OF state ON tasks
WHEN NEW.state = 'queued' AND OLD.state <> 'queued'
 AND NEW.held <> (SELECT paused FROM jobs WHERE seq = NEW.job_seq)
BEGIN
    UPDATE tasks SET held = 1 - held WHERE seq = NEW.seq;
END;

-- `kind` as on PostgreSQL, where a host's own Retry-After pause is shared too; here always 'manual'.
CREATE TABLE host_pauses (
    host  TEXT    NOT NULL,
    until INTEGER NOT NULL,
    kind  TEXT    NOT NULL DEFAULT 'manual' CHECK (kind IN ('retry_after', 'manual')),
    PRIMARY KEY (host, kind)
) STRICT, WITHOUT ROWID;
