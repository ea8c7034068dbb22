-- fetchq schema, version 3: queued tasks that are not due yet wait apart from the due ones.
--
-- The claim reads due tasks in priority, then submit order through `tasks_due`. Tasks queued for
-- later (delay_ms, not_before, a retry's backoff) used to sit in that index too, so a claim walked
-- past every one of them to find the due ones: a million tasks delayed by a day in front of due
-- ones made every claim read a million index entries.
--
-- Now such a task is stored with `waiting = 1`: it is in `tasks_waiting` (by due time) and not in
-- `tasks_due`. Each claim first moves the tasks whose time has come (`waiting = 0`, one index range),
-- then reads `tasks_due` as before. `waiting` is only a shortcut: the claim still checks
-- `next_attempt_at`, so a task marked wrongly is at worst found the slow way, never early.
ALTER TABLE tasks ADD COLUMN waiting INTEGER NOT NULL DEFAULT 0 CHECK (waiting IN (0, 1));

DROP INDEX tasks_due;
CREATE INDEX tasks_due ON tasks (priority DESC, seq, next_attempt_at, host) WHERE state = 'queued' AND waiting = 0;
CREATE INDEX tasks_waiting ON tasks (next_attempt_at) WHERE state = 'queued' AND waiting = 1;
