-- fetchq's PostgreSQL schema, version 5: pausing jobs and hosts.
--
-- A paused job (`jobs.paused`) starts none of its queued tasks: they are held (`tasks.held`), and
-- `tasks_due`, which the claim reads, now leaves held tasks out, so a paused job of a million
-- queued tasks costs a claim nothing. Pausing marks the job's queued tasks held and resuming clears
-- them (one range of `tasks_job_state` each), under the claim lock. A task that becomes queued
-- later while its job is paused (a retry, a lost attempt, a re-run, a give-back) is held by the
-- trigger below; a task appended to a paused job is inserted held. `held` means nothing outside
-- `queued`: the trigger sets it afresh each time a task enters `queued`.
--
-- The trigger runs after `tasks_count_states` (triggers fire in name order), which has locked the
-- job's row: a pause or resume of the same job that is under way has committed by then, and the
-- trigger's own read of `jobs.paused` sees it. A pause or resume sets the tasks, then the job, then
-- the tasks again: the second pass holds the tasks that were queued before the job's row was taken.
--
-- `host_pauses` (0003) now tells a pause made with `POST /v1/hosts/{host}/pause` (`manual`) from a
-- pause the host asked for with a 429 or 503 and Retry-After (`retry_after`): one row per host
-- and kind. The claim skips a host while either lasts. A resume deletes the manual row only: the
-- host's own request for a pause is kept until its end.
ALTER TABLE jobs ADD COLUMN paused boolean NOT NULL DEFAULT false;
ALTER TABLE tasks ADD COLUMN held boolean NOT NULL DEFAULT false;

DROP INDEX tasks_due;
CREATE INDEX tasks_due ON tasks (priority DESC, seq, next_attempt_at, host) WHERE state = 'queued' AND NOT held;

CREATE FUNCTION tasks_hold_paused() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    job_paused boolean;
BEGIN
    SELECT paused INTO job_paused FROM jobs WHERE seq = NEW.job_seq;
    IF job_paused IS DISTINCT FROM NEW.held THEN
        UPDATE tasks SET held = job_paused WHERE seq = NEW.seq;
    END IF;
    RETURN NULL;
END;
$$;

CREATE TRIGGER tasks_hold_paused AFTER UPDATE OF state ON tasks
FOR EACH ROW WHEN (NEW.state = 'queued' AND OLD.state IS DISTINCT FROM 'queued')
EXECUTE FUNCTION tasks_hold_paused();

ALTER TABLE host_pauses ADD COLUMN kind text NOT NULL DEFAULT 'retry_after' CHECK (kind IN ('retry_after', 'manual'));
ALTER TABLE host_pauses DROP CONSTRAINT host_pauses_pkey;
ALTER TABLE host_pauses ADD PRIMARY KEY (host, kind);
