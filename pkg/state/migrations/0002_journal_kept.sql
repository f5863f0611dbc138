-- 0002: journal state "kept".
--
-- A move made with --keep-source leaves the source copy readable on
-- purpose. Its journal entry ends in "kept" instead of "done", so the copy
-- stays on record (get and plan show it) until it is removed on purpose
-- (`mcpctl migrate secrets --cleanup`), which deletes it through the usual
-- protocol and closes the entry ("done"). A kept entry is not an unfinished
-- move: nothing resumes it.
ALTER TABLE secret_migrations DROP CONSTRAINT secret_migrations_state;
ALTER TABLE secret_migrations ADD CONSTRAINT secret_migrations_state
    CHECK (state IN ('started', 'flipped', 'cleanup-pending', 'kept', 'done'));

CREATE INDEX secret_migrations_kept ON secret_migrations (id) WHERE state = 'kept';
