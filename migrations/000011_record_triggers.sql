-- Generic stamping, versioning, audit and immutability for the tables of
-- issue 7 onwards (documents, the official document register, case files,
-- tasks). Migrations 000008–000010 wrote one function of each kind per
-- table; from here on a table opts in with triggers that name these
-- functions, so the rules live once:
--
--   munigis_stamp()        BEFORE INSERT OR UPDATE, FOR EACH ROW: created_at/by
--                          fixed at insert and never changed, version +1 and
--                          updated_at/by on every update. Needs the columns
--                          version, created_at, created_by, updated_at, updated_by.
--   munigis_keep_version() AFTER UPDATE OR DELETE, FOR EACH ROW: the old row
--                          goes to record_versions (who replaced it, when).
--   munigis_audit_rows('kind')
--                          AFTER INSERT/UPDATE/DELETE, FOR EACH STATEMENT with
--                          transition tables new_rows/old_rows: one audit_log
--                          row per changed row ('kind.insert', object 'kind:<id>',
--                          before/after as JSON) for up to 100 rows a statement,
--                          one summary row above that. Needs an id column.
--   munigis_forbid_change('what')
--                          BEFORE UPDATE OR DELETE (FOR EACH ROW) or TRUNCATE:
--                          refuses, for append-only tables (Art. 7(3), 29(1), 47).
--
-- Every table also gets the generic grants of 000004 through the default
-- privileges; append-only tables REVOKE UPDATE, DELETE from munigis_app too,
-- so the rule holds twice.

-- The versions of every record kept by munigis_keep_version: the whole old
-- row as JSON, keyed by table and id. One table for all, so that a new
-- register of issue 8+ needs no history table of its own.
CREATE TABLE record_versions (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tbl         text NOT NULL,
    record_id   bigint NOT NULL,
    version     int NOT NULL,
    data        jsonb NOT NULL,
    -- When the old version was written (its updated_at) and replaced.
    valid_from  timestamptz NOT NULL,
    valid_to    timestamptz NOT NULL,
    replaced_by text NOT NULL,
    operation   text NOT NULL CHECK (operation IN ('update', 'delete')),
    UNIQUE (tbl, record_id, version)
);

CREATE FUNCTION munigis_stamp() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        NEW.created_at := date_trunc('second', now());
        NEW.created_by := munigis_actor();
        NEW.version := 1;
    ELSE
        -- Who created a record and when cannot be corrected (Art. 7(3),
        -- 44(1) p. 8-9): an UPDATE that tries is silently held to the old
        -- values rather than failing the whole edit.
        NEW.created_at := OLD.created_at;
        NEW.created_by := OLD.created_by;
        NEW.version := OLD.version + 1;
    END IF;
    NEW.updated_at := date_trunc('second', now());
    NEW.updated_by := munigis_actor();
    RETURN NEW;
END $$;

CREATE FUNCTION munigis_keep_version() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO record_versions (tbl, record_id, version, data, valid_from, valid_to, replaced_by, operation)
    VALUES (TG_TABLE_NAME, OLD.id, OLD.version, to_jsonb(OLD), OLD.updated_at,
            date_trunc('second', now()), munigis_actor(), lower(TG_OP));
    RETURN NULL;
END $$;

CREATE FUNCTION munigis_audit_rows() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    _copy_limit constant int := 100;
    _kind    text := TG_ARGV[0];
    _action  text := TG_ARGV[0] || '.' || lower(TG_OP);
    _address text := nullif(current_setting('munigis.address', true), '');
    _n       bigint;
BEGIN
    IF TG_OP = 'DELETE' THEN
        SELECT count(*) INTO _n FROM old_rows;
    ELSE
        SELECT count(*) INTO _n FROM new_rows;
    END IF;
    IF _n = 0 THEN
        RETURN NULL;
    END IF;
    IF _n > _copy_limit THEN
        -- A bulk statement (the demo, an import): the ids, whose values are
        -- in the table and record_versions.
        IF TG_OP = 'DELETE' THEN
            INSERT INTO audit_log (action, object, before, address)
            SELECT _action, TG_TABLE_NAME, jsonb_build_object('count', _n,
                       'ids', jsonb_agg(to_jsonb(_r) -> 'id'), 'values_in', 'record_versions'), _address
            FROM old_rows _r;
        ELSE
            INSERT INTO audit_log (action, object, after, address)
            SELECT _action, TG_TABLE_NAME, jsonb_build_object('count', _n,
                       'ids', jsonb_agg(to_jsonb(_r) -> 'id'), 'values_in', TG_TABLE_NAME), _address
            FROM new_rows _r;
        END IF;
        RETURN NULL;
    END IF;
    IF TG_OP = 'INSERT' THEN
        INSERT INTO audit_log (action, object, after, address)
        SELECT _action, _kind || ':' || (to_jsonb(_r) ->> 'id'), to_jsonb(_r), _address
        FROM new_rows _r ORDER BY (to_jsonb(_r) ->> 'id')::bigint;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO audit_log (action, object, before, address)
        SELECT _action, _kind || ':' || (to_jsonb(_r) ->> 'id'), to_jsonb(_r), _address
        FROM old_rows _r ORDER BY (to_jsonb(_r) ->> 'id')::bigint;
    ELSE
        INSERT INTO audit_log (action, object, before, after, address)
        SELECT _action, _kind || ':' || (to_jsonb(_n2) ->> 'id'), to_jsonb(_o), to_jsonb(_n2), _address
        FROM new_rows _n2 JOIN old_rows _o ON (to_jsonb(_o) -> 'id') = (to_jsonb(_n2) -> 'id')
        ORDER BY (to_jsonb(_n2) ->> 'id')::bigint;
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION munigis_forbid_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = 'MG030',
        MESSAGE = format('%s are never changed or deleted', coalesce(TG_ARGV[0], TG_TABLE_NAME)),
        HINT = 'record a correction instead';
END $$;

CREATE TRIGGER no_change BEFORE UPDATE OR DELETE ON record_versions
    FOR EACH ROW EXECUTE FUNCTION munigis_forbid_change('record versions');
CREATE TRIGGER no_truncate BEFORE TRUNCATE ON record_versions
    FOR EACH STATEMENT EXECUTE FUNCTION munigis_forbid_change('record versions');
REVOKE UPDATE, DELETE, TRUNCATE ON record_versions FROM munigis_app;
CREATE INDEX record_versions_record ON record_versions (tbl, record_id, version);

-- Grants for the work of issue 7: object kind 'cases' names what a grant is
-- on: 'case_files' (read: see case files and their tasks; edit: open them,
-- file documents, work tasks), 'odr' (edit: register documents in the
-- official document register), 'official_section' (edit: remove a document
-- from a case file's official section, Art. 45(2)), 'nomenclatures' (edit:
-- add document types, services and stages, Art. 53, 56, 59).
ALTER TABLE grants DROP CONSTRAINT grants_object_kind_check;
ALTER TABLE grants ADD CONSTRAINT grants_object_kind_check CHECK (object_kind IN ('layer', 'register', 'cases'));

INSERT INTO grants (subject_kind, subject, object_kind, object, permission, granted_by) VALUES
    ('role', 'clerk', 'cases', '*', 'edit', 'system:migration'),
    ('role', 'planner', 'cases', 'case_files', 'edit', 'system:migration'),
    ('role', 'planner', 'cases', 'odr', 'edit', 'system:migration'),
    ('role', 'inspector', 'cases', 'case_files', 'read', 'system:migration');
