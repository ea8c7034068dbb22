-- fetchq's PostgreSQL schema, version 9: bodies fetchq decoded itself (see the SQLite migration
-- 0012_decoded_bodies.sql).
ALTER TABLE tasks ADD COLUMN decode_content boolean NOT NULL DEFAULT false;
ALTER TABLE tasks ADD COLUMN decoded_from text;
