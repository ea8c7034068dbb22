-- fetchq schema, version 8: the two list CHECKs of `tasks` written as comparisons.
--
-- SQLite (3.40, Debian 12's) evaluates `x IN ('a', 'b', …)` of more than two values through a
-- temporary index, and inside a CHECK constraint it builds that index anew for every row written.
-- The two on `tasks` (method, state) were ≈ 13 % of every instruction a submission of 10,000 tasks
-- cost (callgrind): a fresh temporary b-tree, cleared and filled, twice per inserted row.
-- `x = 'a' OR x = 'b' OR …` allows exactly the same values, and treats NULL the same way, with no
-- temporary index.
--
-- SQLite cannot alter a CHECK; this is the procedure its documentation gives for schema changes
-- that keep every stored row valid (lang_altertable.html, "Making Other Kinds Of Table Schema
-- Changes"): the table's text in sqlite_schema is edited in place and the connection reads it
-- again. A connection opened before keeps the old text, which allows the same values.
-- PostgreSQL's `IN` has no such cost: its migrations stay as they are.
PRAGMA writable_schema = ON;
UPDATE sqlite_schema SET sql = replace(replace(sql,
    'CHECK (method IN (''GET'', ''HEAD'', ''POST'', ''PUT'', ''PATCH'', ''DELETE'', ''OPTIONS''))',
    'CHECK (method = ''GET'' OR method = ''HEAD'' OR method = ''POST'' OR method = ''PUT'''
        || ' OR method = ''PATCH'' OR method = ''DELETE'' OR method = ''OPTIONS'')'),
    'CHECK (state IN (''queued'', ''running'', ''succeeded'', ''failed'', ''canceled''))',
    'CHECK (state = ''queued'' OR state = ''running'' OR state = ''succeeded'' OR state = ''failed'''
        || ' OR state = ''canceled'')')
WHERE type = 'table' AND name = 'tasks';
PRAGMA writable_schema = RESET;
PRAGMA writable_schema = OFF;
