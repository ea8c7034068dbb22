-- fetchq schema, version 4: a 410 Gone from a job's webhook receiver is remembered on the job.
--
-- A receiver that answers 410 Gone wants no more events for the job. Until now a 410 failed only
-- the job's deliveries that were pending at that moment; an event created later (a task that
-- finished after the 410, or the job's job.finished) was still sent. Now the 410 sets
-- `jobs.callback_gone_at`, and a delivery created for such a job is failed as it is stored, with the
-- same reason, so it is listed but never sent. Redelivering one of the job's deliveries by hand
-- clears the mark (the operator says the receiver is back).
ALTER TABLE jobs ADD COLUMN callback_gone_at INTEGER;

CREATE TRIGGER deliveries_to_a_gone_receiver AFTER INSERT ON deliveries
WHEN (SELECT callback_gone_at FROM jobs WHERE seq = NEW.job_seq) IS NOT NULL
BEGIN
    UPDATE deliveries SET state = 'failed',
        last_error = 'the receiver answered 410 Gone to an earlier delivery'
    WHERE seq = NEW.seq;
END;
