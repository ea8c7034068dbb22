-- fetchq's PostgreSQL schema, version 7: a host's adapted limit holds for the whole cluster.
--
-- A node that lowers a host's limit (it answered 429 or 503, timed out, refused connections) or
-- raises it again records the new limit here in its next claim; every node's claim allows the host
-- no more running tasks, across the cluster, than the lower of `--per-host-concurrency` and this.
-- The last change wins, whichever node made it. Rows not changed for an hour are ignored, and the
-- leader deletes them.
CREATE TABLE host_limits (
    host          text    PRIMARY KEY,
    current_limit integer NOT NULL CHECK (current_limit >= 1),
    updated_at    bigint  NOT NULL
);
