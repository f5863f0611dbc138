-- 0003: set_data_columns no longer looks up the backend's type.
--
-- backend_version -1 asks the trigger to record the data_version the
-- values get. Until now the trigger honoured it only on a plaintext
-- backend, which it found with dynamic SQL (the schema's name varies, and
-- function bodies reference no tables): Postgres parsed and planned that
-- lookup on every row written with values, the largest part of the cost of
-- moving a secret onto plaintext. mcpctl's statements already join the
-- backend row, so they now pass -1 only for values placed on a plaintext
-- backend, and the object's version otherwise (pkg/state: versionWithData).
CREATE OR REPLACE FUNCTION set_data_columns() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        NEW.data_version := CASE WHEN NEW.data IS NULL THEN 0 ELSE 1 END;
        IF NEW.data IS NOT NULL AND NEW.data_owner = '' THEN
            NEW.data_owner := NEW.id::text;
        END IF;
    ELSIF NEW.data IS DISTINCT FROM OLD.data THEN
        NEW.data_version := OLD.data_version + 1;
    ELSE
        NEW.data_version := OLD.data_version;
    END IF;
    -- mcpctl writes values onto a plaintext backend with backend_version
    -- -1: "record the version these values get", which only this trigger
    -- knows. An edit made outside mcpctl leaves backend_version behind,
    -- which plan reports as drift.
    IF NEW.backend_version = -1 THEN
        NEW.backend_version := NEW.data_version;
    END IF;
    IF NEW.data IS NULL THEN
        NEW.data_owner := '';
    ELSE
        NEW.keys := ARRAY(SELECT k FROM jsonb_object_keys(NEW.data) AS k ORDER BY k COLLATE "C");
    END IF;
    RETURN NEW;
END
$$;
