-- fetchq schema, version 12: bodies fetchq decoded itself.
--
-- `tasks.decode_content` is the task's `decode_content`: the worker asks for gzip, deflate and br
-- and stores the body decoded. `tasks.decoded_from` is the Content-Encoding it removed from the
-- stored body (NULL: stored as sent), so that the body is served without it and the outcome says
-- what was removed. The stored response headers stay as received.
ALTER TABLE tasks ADD COLUMN decode_content INTEGER NOT NULL DEFAULT 0 CHECK (decode_content = 0 OR decode_content = 1);
ALTER TABLE tasks ADD COLUMN decoded_from TEXT;
