-- fetchq's PostgreSQL schema, version 3: a host's pause holds for the whole cluster.
--
-- A host that answers 429 or 503 with `Retry-After` asks to be left alone. The node that saw it
-- records the pause here in its next claim; every node's claim skips the hosts paused here, so
-- none sends the host anything before `until` (epoch milliseconds). Old rows are harmless (only
-- `until > now` counts) and the leader deletes them.
CREATE TABLE host_pauses (
    host  text   PRIMARY KEY,
    until bigint NOT NULL
);
