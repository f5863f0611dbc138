-- 0001: initial schema.
--
-- The runner sets search_path to the target schema for the transaction, so
-- objects here are unqualified. Function bodies reference no tables, so they
-- do not depend on the search_path at run time.

-- Generation, timestamps and the data version are kept by the database, so
-- every change bumps them, including edits made with psql (drift shows).
CREATE FUNCTION set_row_versions() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        NEW.generation := 1;
        NEW.created_at := now();
    ELSE
        NEW.generation := OLD.generation + 1;
        NEW.created_at := OLD.created_at;
    END IF;
    NEW.updated_at := now();
    RETURN NEW;
END
$$;

-- For secrets: data_version counts changes of data; keys mirror data's key
-- names whenever there is data (also after an edit made outside mcpctl);
-- data_owner is the owner id the values were written for, the row's own id
-- for values inserted with the row, and empty without data.
CREATE FUNCTION set_data_columns() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    placed_on text;
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
    -- mcpctl writes values with backend_version -1: "record the version
    -- these values get", which only this trigger knows. An edit made outside
    -- mcpctl leaves backend_version behind, which plan reports as drift.
    -- Only on a plaintext backend: values left in the row of a secret placed
    -- elsewhere (a migration's leftover copy) do not change the version of
    -- the object on that other backend.
    IF NEW.backend_version = -1 THEN
        EXECUTE format('SELECT type FROM %I.backends WHERE id = $1', TG_TABLE_SCHEMA)
            INTO placed_on USING NEW.backend_id;
        IF placed_on = 'plaintext' THEN
            NEW.backend_version := NEW.data_version;
        ELSIF TG_OP = 'UPDATE' THEN
            NEW.backend_version := OLD.backend_version;
        ELSE
            NEW.backend_version := 0;
        END IF;
    END IF;
    IF NEW.data IS NULL THEN
        NEW.data_owner := '';
    ELSE
        NEW.keys := ARRAY(SELECT k FROM jsonb_object_keys(NEW.data) AS k ORDER BY k COLLATE "C");
    END IF;
    RETURN NEW;
END
$$;

-- SQLSTATE MC001 maps to state.ErrProtected, MC002 to state.ErrImmutable.
CREATE FUNCTION guard_backend() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        RAISE EXCEPTION 'the backends table cannot be truncated (it holds the bootstrap backend)'
            USING ERRCODE = 'MC001';
    END IF;
    IF TG_OP = 'DELETE' THEN
        IF OLD.name = 'default' THEN
            RAISE EXCEPTION 'backend "%" is the bootstrap backend and cannot be deleted', OLD.name
                USING ERRCODE = 'MC001';
        END IF;
        IF OLD.protected THEN
            RAISE EXCEPTION 'backend "%" is protected (mcpctl/prevent-destroy): remove the annotation and apply before deleting', OLD.name
                USING ERRCODE = 'MC001';
        END IF;
        RETURN OLD;
    END IF;
    IF NEW.type <> OLD.type THEN
        RAISE EXCEPTION 'backend "%": type is immutable (% -> %): create a new backend and move the secrets', OLD.name, OLD.type, NEW.type
            USING ERRCODE = 'MC002';
    END IF;
    IF OLD.name = 'default' AND NEW.name <> OLD.name THEN
        RAISE EXCEPTION 'backend "%" is the bootstrap backend and cannot be renamed', OLD.name
            USING ERRCODE = 'MC002';
    END IF;
    RETURN NEW;
END
$$;

CREATE FUNCTION guard_secret() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.protected THEN
        RAISE EXCEPTION 'secret "%" is protected (mcpctl/prevent-destroy): remove the annotation and apply before deleting', OLD.name
            USING ERRCODE = 'MC001';
    END IF;
    RETURN OLD;
END
$$;

CREATE TABLE backends (
    id          uuid        NOT NULL DEFAULT gen_random_uuid(),
    name        text        COLLATE "C" NOT NULL,
    type        text        NOT NULL,
    config      jsonb       NOT NULL DEFAULT '{}',
    is_default  boolean     NOT NULL DEFAULT false,
    description text        NOT NULL DEFAULT '',
    labels      jsonb       NOT NULL DEFAULT '{}',
    annotations jsonb       NOT NULL DEFAULT '{}',
    protected   boolean     NOT NULL DEFAULT false,
    generation  bigint      NOT NULL DEFAULT 1,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT backends_pkey PRIMARY KEY (id),
    CONSTRAINT backends_name_unique UNIQUE (name),
    CONSTRAINT backends_config_object CHECK (jsonb_typeof(config) = 'object'),
    CONSTRAINT backends_labels_object CHECK (jsonb_typeof(labels) = 'object'),
    CONSTRAINT backends_annotations_object CHECK (jsonb_typeof(annotations) = 'object')
);

-- At most one default backend in the installation.
CREATE UNIQUE INDEX backends_one_default ON backends (is_default) WHERE is_default;

CREATE TRIGGER backends_versions BEFORE INSERT OR UPDATE ON backends
    FOR EACH ROW EXECUTE FUNCTION set_row_versions();
CREATE TRIGGER backends_guard BEFORE UPDATE OR DELETE ON backends
    FOR EACH ROW EXECUTE FUNCTION guard_backend();
CREATE TRIGGER backends_guard_truncate BEFORE TRUNCATE ON backends
    FOR EACH STATEMENT EXECUTE FUNCTION guard_backend();

CREATE TABLE secrets (
    id              uuid        NOT NULL DEFAULT gen_random_uuid(),
    name            text        COLLATE "C" NOT NULL,
    backend_id      uuid        NOT NULL,
    external_ref    text        NOT NULL DEFAULT '',
    -- Values, only while the secret lives on a plaintext backend: a JSON
    -- object of key -> string, or key -> {"base64": ...} for a value jsonb
    -- cannot hold as text (NUL, invalid UTF-8). Viewer roles get no SELECT
    -- on this column; has_data tells them presence.
    data            jsonb,
    has_data        boolean     GENERATED ALWAYS AS (data IS NOT NULL) STORED,
    data_version    bigint      NOT NULL DEFAULT 0,
    data_owner      text        NOT NULL DEFAULT '',
    keys            text[]      NOT NULL DEFAULT '{}',
    backend_version bigint      NOT NULL DEFAULT 0,
    fingerprint     text        NOT NULL DEFAULT '',
    managed         boolean     NOT NULL DEFAULT false,
    labels          jsonb       NOT NULL DEFAULT '{}',
    annotations     jsonb       NOT NULL DEFAULT '{}',
    protected       boolean     NOT NULL DEFAULT false,
    generation      bigint      NOT NULL DEFAULT 1,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT secrets_pkey PRIMARY KEY (id),
    CONSTRAINT secrets_name_unique UNIQUE (name),
    CONSTRAINT secrets_backend_fk FOREIGN KEY (backend_id) REFERENCES backends (id) ON DELETE RESTRICT,
    CONSTRAINT secrets_data_object CHECK (data IS NULL OR jsonb_typeof(data) = 'object'),
    CONSTRAINT secrets_labels_object CHECK (jsonb_typeof(labels) = 'object'),
    CONSTRAINT secrets_annotations_object CHECK (jsonb_typeof(annotations) = 'object')
);

-- The FK's referencing side: RESTRICT checks and per-backend reads.
CREATE INDEX secrets_backend_id ON secrets (backend_id);

CREATE TRIGGER secrets_versions BEFORE INSERT OR UPDATE ON secrets
    FOR EACH ROW EXECUTE FUNCTION set_row_versions();
CREATE TRIGGER secrets_data_columns BEFORE INSERT OR UPDATE ON secrets
    FOR EACH ROW EXECUTE FUNCTION set_data_columns();
CREATE TRIGGER secrets_guard BEFORE DELETE ON secrets
    FOR EACH ROW EXECUTE FUNCTION guard_secret();

-- The migration journal: one row per move of a secret between backends.
-- Ids are not foreign keys: the journal outlives the rows it describes.
CREATE TABLE secret_migrations (
    id              bigint      GENERATED ALWAYS AS IDENTITY,
    secret_id       uuid,
    secret_name     text        NOT NULL,
    from_backend_id uuid,
    from_backend    text        NOT NULL,
    to_backend_id   uuid,
    to_backend      text        NOT NULL,
    state           text        NOT NULL,
    plan_id         text        NOT NULL DEFAULT '',
    source_version  bigint      NOT NULL DEFAULT 0,
    dest_version    bigint      NOT NULL DEFAULT 0,
    keep_source     boolean     NOT NULL DEFAULT false,
    destroy_source  boolean     NOT NULL DEFAULT false,
    error           text        NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT secret_migrations_pkey PRIMARY KEY (id),
    CONSTRAINT secret_migrations_state CHECK (state IN ('started', 'flipped', 'cleanup-pending', 'done'))
);

CREATE INDEX secret_migrations_open ON secret_migrations (id) WHERE state <> 'done';

CREATE TABLE audit_log (
    id          bigint      GENERATED ALWAYS AS IDENTITY,
    at          timestamptz NOT NULL DEFAULT now(),
    actor       text        NOT NULL DEFAULT '',
    plan_id     text        NOT NULL DEFAULT '',
    action      text        NOT NULL,
    kind        text        NOT NULL DEFAULT '',
    name        text        NOT NULL DEFAULT '',
    outcome     text        NOT NULL DEFAULT '',
    detail      text        NOT NULL DEFAULT '',
    duration_ms bigint      NOT NULL DEFAULT 0,
    CONSTRAINT audit_log_pkey PRIMARY KEY (id)
);

-- Who holds the schema's advisory lock. One row at most; backend_pid ties it
-- to the session holding the lock, so a row left by a crashed process is
-- recognisable as stale.
CREATE TABLE lock_holder (
    singleton   boolean     NOT NULL DEFAULT true,
    user_name   text        NOT NULL,
    host        text        NOT NULL,
    pid         integer     NOT NULL,
    ci_run_url  text        NOT NULL DEFAULT '',
    operation   text        NOT NULL,
    started_at  timestamptz NOT NULL,
    backend_pid integer     NOT NULL,
    CONSTRAINT lock_holder_pkey PRIMARY KEY (singleton),
    CONSTRAINT lock_holder_singleton CHECK (singleton)
);

-- Per-installation secrets of mcpctl itself, in their own table so viewer
-- roles can be denied it as a whole.
CREATE TABLE installation (
    singleton       boolean     NOT NULL DEFAULT true,
    fingerprint_key bytea       NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT installation_pkey PRIMARY KEY (singleton),
    CONSTRAINT installation_singleton CHECK (singleton),
    CONSTRAINT installation_key_length CHECK (length(fingerprint_key) >= 32)
);

-- The bootstrap backend: the trust root, always present, undeletable.
INSERT INTO backends (name, type, is_default, protected, description)
VALUES ('default', 'plaintext', true, true, 'bootstrap backend: values kept in the secrets table');
