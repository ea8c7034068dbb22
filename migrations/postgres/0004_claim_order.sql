-- fetchq's PostgreSQL schema, version 4: one claim order on both engines.
--
-- Due tasks are claimed by priority, then submit order (`ClaimRule.order`), as on SQLite: a
-- retried task keeps its place among its priority's tasks. The index follows the order, with the
-- due time and host beside it so that the claim's filter reads no table row it then skips.
DROP INDEX tasks_due;
CREATE INDEX tasks_due ON tasks (priority DESC, seq, next_attempt_at, host) WHERE state = 'queued';
