-- The audit trail (Наредба, Art. 7(2)-(3) and 18(3)): who (system
-- identifier), when (to the second, stored in UTC), what object, what action,
-- and the values before and after, for every creation and change of data,
-- every access grant and every sign-in.
--
-- It cannot be corrected or destroyed:
--   * append-only: BEFORE UPDATE / DELETE / TRUNCATE triggers raise, and they
--     fire for the table's owner as well; the application role munigis_app
--     holds only SELECT and INSERT on it;
--   * tamper-evident: every row carries hash = SHA-256(prev_hash ||
--     canonical text of the row), prev_hash being the previous row's hash
--     (32 zero bytes before the first row). `munigis audit verify`
--     recomputes the chain and names the first row that does not match, so
--     a superuser who disables the triggers and edits or deletes a row is
--     found out.
--
-- Retention: at least 20 years. The table is partitioned by calendar year
-- (UTC) of "at": this migration creates the partitions 2024..2046,
-- audit_ensure_partition(year) adds later ones (idempotent; `munigis
-- migrate`/operators call it, a later migration may add a batch), and a
-- DEFAULT partition takes any row whose year has no partition yet, so an
-- insert never fails for want of one. A year's partition is the unit of
-- archiving: after 20 years (not before) an archivist may, as the owner,
-- export it and DETACH it; the hash chain of the remaining rows then starts
-- at that partition's last hash, which the export must keep. Note: a year
-- cannot get its own partition while the DEFAULT partition holds rows of
-- that year (rows are never moved, as they cannot be deleted); keep the
-- yearly partitions ahead of time instead.

-- The chain's canonical text of one row, version 1. Go computes the very
-- same text in audit.Canonical; change both or neither. Each field is, in
-- this order, id, at, actor, action, object, before, after, address:
--   NULL            -> "~\n"
--   a value v       -> "<number of UTF-8 bytes of v>:" || v || "\n"
-- after the line "munigis-audit-v1\n", where
--   id      is the decimal number,
--   at      is YYYY-MM-DDTHH:MM:SS.ffffffZ in UTC (microseconds always
--           written, so that a sub-second change is seen as well),
--   before, after are PostgreSQL's text output of the jsonb value
--           (deterministic for a jsonb value: keys sorted, one spacing).
-- hash = sha256(prev_hash || convert_to(canonical, 'UTF8')).
CREATE FUNCTION audit_canonical(p_id bigint, p_at timestamptz, p_actor text, p_action text,
                                p_object text, p_before jsonb, p_after jsonb, p_address text)
RETURNS text LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT 'munigis-audit-v1' || E'\n' || string_agg(
        CASE WHEN v IS NULL THEN '~' ELSE octet_length(v)::text || ':' || v END || E'\n', '' ORDER BY n)
    FROM unnest(ARRAY[
        p_id::text,
        to_char(p_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
        p_actor, p_action, p_object, p_before::text, p_after::text, p_address
    ]) WITH ORDINALITY AS f(v, n)
$$;

CREATE SEQUENCE audit_log_id_seq AS bigint;

CREATE TABLE audit_log (
    -- Global order of the chain; assigned by the chaining trigger, under
    -- the chain's lock, so that ids follow the chain (gaps are possible
    -- when a transaction rolls back, and harmless).
    id        bigint NOT NULL,
    at        timestamptz NOT NULL DEFAULT date_trunc('second', now())
              CHECK (at = date_trunc('second', at)),
    actor     text NOT NULL CHECK (actor <> ''),
    action    text NOT NULL CHECK (action ~ '^[a-z][a-z0-9_.]*$'),
    object    text NOT NULL DEFAULT '',
    before    jsonb,
    after     jsonb,
    address   text,
    prev_hash bytea NOT NULL CHECK (octet_length(prev_hash) = 32),
    hash      bytea NOT NULL CHECK (octet_length(hash) = 32),
    PRIMARY KEY (id, at)
) PARTITION BY RANGE (at);

ALTER SEQUENCE audit_log_id_seq OWNED BY audit_log.id;

CREATE INDEX ON audit_log (object text_pattern_ops, id);
CREATE INDEX ON audit_log (actor, id);
CREATE INDEX ON audit_log (at);

-- The head of the chain: one row with the last id and hash. Appenders lock
-- it (SELECT ... FOR UPDATE) to serialise; see audit_chain().
CREATE TABLE audit_head (
    only_one  boolean PRIMARY KEY DEFAULT true CHECK (only_one),
    last_id   bigint NOT NULL,
    last_hash bytea NOT NULL
);
INSERT INTO audit_head (last_id, last_hash) VALUES (0, decode(repeat('00', 32), 'hex'));

-- No row of the trail may change or go; these fire for the owner too.
CREATE FUNCTION audit_forbid_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = 'MG010',
        MESSAGE = format('the audit trail is append-only: %s on %s is not allowed', TG_OP, TG_TABLE_NAME);
END $$;

-- Rows waiting for their transaction to commit before they are chained.
-- Chaining serialises writers (below), so it is left to the last moment:
-- a long transaction (an import of a million parcels, the demo load) must
-- not hold the chain, and with it every sign-in, for minutes.
CREATE TABLE audit_pending (
    pid     bigserial PRIMARY KEY,
    at      timestamptz NOT NULL,
    actor   text,
    action  text NOT NULL,
    object  text,
    before  jsonb,
    after   jsonb,
    address text
);

-- Runs BEFORE INSERT on every partition (cloned from the parent), so a
-- plain INSERT INTO audit_log is handled like audit_record(). SECURITY
-- DEFINER: it writes audit_head and audit_pending, on which the
-- application role has no rights.
--
-- An insert is parked in audit_pending and chained at COMMIT by the
-- deferred trigger audit_pending_flush, which sets munigis.audit_chaining
-- for the inserts it makes. (Setting that flag oneself merely chains at
-- once: correct, only earlier.)
--
-- Concurrency: two transactions appending at once must not both chain to
-- the same predecessor. The head row is locked with FOR UPDATE, held until
-- the appending transaction ends, so appends are serialised; the id is
-- taken from the sequence only under that lock, so id order is chain order.
-- Because chaining happens at commit, the lock is held only from then to
-- the end of the commit. Under READ COMMITTED, FOR UPDATE waits for the
-- other transaction and then reads the head row's newest committed version
-- (not the snapshot's), so the chain continues from the row just committed.
-- Under REPEATABLE READ or SERIALIZABLE the same situation raises a
-- serialization failure (40001) instead: the commit fails and can be
-- retried, it never forks the chain. A rolled-back transaction rolls back
-- its head update as well, so the chain never points at a row that does
-- not exist.
CREATE FUNCTION audit_chain() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    h audit_head;
BEGIN
    IF NEW.at IS DISTINCT FROM date_trunc('second', now()) THEN
        -- The row was already routed to a partition by "at", so it cannot
        -- be changed here; a caller may not choose the time.
        RAISE EXCEPTION USING ERRCODE = 'MG010',
            MESSAGE = 'the time of an audit record is set by the database';
    END IF;
    IF coalesce(current_setting('munigis.audit_chaining', true), '') <> 'on' THEN
        INSERT INTO audit_pending (at, actor, action, object, before, after, address)
        VALUES (NEW.at, coalesce(nullif(NEW.actor, ''), munigis_actor()), NEW.action, NEW.object,
                NEW.before, NEW.after, NEW.address);
        RETURN NULL;
    END IF;
    SELECT * INTO STRICT h FROM audit_head FOR UPDATE;
    NEW.id := nextval('audit_log_id_seq');
    NEW.actor := coalesce(nullif(NEW.actor, ''), munigis_actor());
    NEW.object := coalesce(NEW.object, '');
    NEW.prev_hash := h.last_hash;
    NEW.hash := sha256(h.last_hash || convert_to(audit_canonical(NEW.id, NEW.at, NEW.actor, NEW.action,
                       NEW.object, NEW.before, NEW.after, NEW.address), 'UTF8'));
    UPDATE audit_head SET last_id = NEW.id, last_hash = NEW.hash;
    RETURN NEW;
END $$;

-- At commit, moves each parked row into the chain, in the order the rows
-- were recorded (deferred triggers fire in event order).
CREATE FUNCTION audit_pending_flush() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    PERFORM set_config('munigis.audit_chaining', 'on', true);
    INSERT INTO audit_log (at, actor, action, object, before, after, address)
    VALUES (NEW.at, NEW.actor, NEW.action, NEW.object, NEW.before, NEW.after, NEW.address);
    PERFORM set_config('munigis.audit_chaining', 'off', true);
    DELETE FROM audit_pending WHERE pid = NEW.pid;
    RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER flush AFTER INSERT ON audit_pending
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION audit_pending_flush();

CREATE TRIGGER chain BEFORE INSERT ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_chain();
CREATE TRIGGER append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_forbid_change();
CREATE TRIGGER no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_forbid_change();
-- audit_head: only its owner may write it (through audit_chain()).
CREATE TRIGGER no_delete BEFORE DELETE ON audit_head
    FOR EACH ROW EXECUTE FUNCTION audit_forbid_change();
CREATE TRIGGER no_truncate BEFORE TRUNCATE ON audit_head
    FOR EACH STATEMENT EXECUTE FUNCTION audit_forbid_change();

-- Creates the partition of one calendar year (UTC) if it is missing.
-- TRUNCATE triggers are not inherited, so each partition gets its own.
CREATE FUNCTION audit_ensure_partition(p_year int) RETURNS void
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
DECLARE
    part text := format('audit_log_%s', p_year);
BEGIN
    IF p_year < 2000 OR p_year > 9998 THEN
        RAISE EXCEPTION USING ERRCODE = 'MG010', MESSAGE = format('year %s is out of range', p_year);
    END IF;
    IF to_regclass(part) IS NOT NULL THEN
        RETURN;
    END IF;
    EXECUTE format('CREATE TABLE %I PARTITION OF audit_log FOR VALUES FROM (%L) TO (%L)', part,
        make_timestamptz(p_year, 1, 1, 0, 0, 0, 'UTC'), make_timestamptz(p_year + 1, 1, 1, 0, 0, 0, 'UTC'));
    EXECUTE format('CREATE TRIGGER no_truncate BEFORE TRUNCATE ON %I
        FOR EACH STATEMENT EXECUTE FUNCTION audit_forbid_change()', part);
    -- Default privileges would give the application UPDATE and DELETE on
    -- the new partition; it reaches the rows through audit_log only.
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'munigis_app') THEN
        EXECUTE format('REVOKE ALL ON %I FROM munigis_app', part);
    END IF;
END $$;
REVOKE EXECUTE ON FUNCTION audit_ensure_partition(int) FROM PUBLIC;

CREATE TABLE audit_log_default PARTITION OF audit_log DEFAULT;
CREATE TRIGGER no_truncate BEFORE TRUNCATE ON audit_log_default
    FOR EACH STATEMENT EXECUTE FUNCTION audit_forbid_change();
SELECT audit_ensure_partition(y) FROM generate_series(2024, 2046) y;

-- The one function the application calls to record an event. The actor is
-- munigis_actor() (SET LOCAL munigis.actor, else "db:<role>"), the time
-- now() to the second, the address p_address or else the transaction's
-- munigis.address setting. Returns the new row's id.
CREATE FUNCTION audit_record(p_action text, p_object text, p_before jsonb, p_after jsonb,
                             p_address text DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    new_id bigint;
BEGIN
    INSERT INTO audit_log (actor, action, object, before, after, address)
    VALUES (munigis_actor(), p_action, coalesce(p_object, ''), p_before, p_after,
            coalesce(p_address, nullif(current_setting('munigis.address', true), '')))
    RETURNING id INTO new_id;
    -- NULL while the record waits for its commit to be chained (see
    -- audit_chain); the row's id is known only then.
    RETURN new_id;
END $$;

-- Feature changes, audited per statement with transition tables, so that a
-- million-row import writes one audit row per 10,000 features, not a
-- million. Each row names the layer and the feature ids (in "object" too,
-- as layer:<name>/<id>, when the statement touched one feature). The values
-- are copied into the row when the statement touched at most 100
-- features (every edit made by a person); a bigger statement (an import, a
-- bulk update) records the ids and their versions instead, and the values
-- are those versions: the current rows and feature_versions, which keeps
-- every earlier version. Measured on 200,000 imported parcels: see README.
CREATE FUNCTION munigis_feature_audit() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    copy_limit constant int := 100;
    chunk      constant int := 10000;
    n          bigint;
    v_action   text := 'feature.' || lower(TG_OP);
    v_layer    text := TG_TABLE_NAME;
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT count(*) INTO n FROM new_rows;
        IF n = 0 THEN RETURN NULL; END IF;
        INSERT INTO audit_log (action, object, after, address)
        SELECT v_action,
               CASE WHEN n = 1 THEN format('layer:%s/%s', v_layer, min(id)) ELSE 'layer:' || v_layer END,
               jsonb_build_object('layer', v_layer, 'count', count(*), 'ids', jsonb_agg(id ORDER BY id))
                 || CASE WHEN n <= copy_limit
                         THEN jsonb_build_object('features', jsonb_agg(v ORDER BY id))
                         ELSE jsonb_build_object('versions', jsonb_agg(version ORDER BY id),
                                                 'values_in', 'features.' || v_layer) END,
               nullif(current_setting('munigis.address', true), '')
        FROM (SELECT id, version, (row_number() OVER (ORDER BY id) - 1) / chunk AS c,
                     CASE WHEN n <= copy_limit THEN to_jsonb(r) - 'geom_3857' END AS v
              FROM new_rows r) s
        GROUP BY c ORDER BY c;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT count(*) INTO n FROM old_rows;
        IF n = 0 THEN RETURN NULL; END IF;
        INSERT INTO audit_log (action, object, before, address)
        SELECT v_action,
               CASE WHEN n = 1 THEN format('layer:%s/%s', v_layer, min(id)) ELSE 'layer:' || v_layer END,
               jsonb_build_object('layer', v_layer, 'count', count(*), 'ids', jsonb_agg(id ORDER BY id))
                 || CASE WHEN n <= copy_limit
                         THEN jsonb_build_object('features', jsonb_agg(v ORDER BY id))
                         ELSE jsonb_build_object('versions', jsonb_agg(version ORDER BY id),
                                                 'values_in', 'feature_versions') END,
               nullif(current_setting('munigis.address', true), '')
        FROM (SELECT id, version, (row_number() OVER (ORDER BY id) - 1) / chunk AS c,
                     CASE WHEN n <= copy_limit THEN to_jsonb(r) - 'geom_3857' END AS v
              FROM old_rows r) s
        GROUP BY c ORDER BY c;
    ELSE
        SELECT count(*) INTO n FROM new_rows;
        IF n = 0 THEN RETURN NULL; END IF;
        INSERT INTO audit_log (action, object, before, after, address)
        SELECT v_action,
               CASE WHEN n = 1 THEN format('layer:%s/%s', v_layer, min(id)) ELSE 'layer:' || v_layer END,
               jsonb_build_object('layer', v_layer, 'count', count(*), 'ids', jsonb_agg(id ORDER BY id))
                 || CASE WHEN n <= copy_limit
                         THEN jsonb_build_object('features', jsonb_agg(ov ORDER BY id))
                         ELSE jsonb_build_object('versions', jsonb_agg(oversion ORDER BY id),
                                                 'values_in', 'feature_versions') END,
               jsonb_build_object('layer', v_layer, 'count', count(*), 'ids', jsonb_agg(id ORDER BY id))
                 || CASE WHEN n <= copy_limit
                         THEN jsonb_build_object('features', jsonb_agg(nv ORDER BY id))
                         ELSE jsonb_build_object('versions', jsonb_agg(nversion ORDER BY id),
                                                 'values_in', 'features.' || v_layer) END,
               nullif(current_setting('munigis.address', true), '')
        FROM (SELECT nr.id, o.version AS oversion, nr.version AS nversion,
                     (row_number() OVER (ORDER BY nr.id) - 1) / chunk AS c,
                     CASE WHEN n <= copy_limit THEN to_jsonb(o) - 'geom_3857' END AS ov,
                     CASE WHEN n <= copy_limit THEN to_jsonb(nr) - 'geom_3857' END AS nv
              FROM new_rows nr JOIN old_rows o USING (id)) s
        GROUP BY c ORDER BY c;
    END IF;
    RETURN NULL;
END $$;

-- Adds the three audit triggers to features.<layer> (idempotent).
CREATE FUNCTION munigis_audit_layer_table(p_layer text) RETURNS void
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
BEGIN
    IF to_regclass(format('features.%I', p_layer)) IS NULL
       OR EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = 'audit_insert'
                  AND tgrelid = format('features.%I', p_layer)::regclass) THEN
        RETURN;
    END IF;
    EXECUTE format('
        CREATE TRIGGER audit_insert AFTER INSERT ON features.%1$I REFERENCING NEW TABLE AS new_rows
            FOR EACH STATEMENT EXECUTE FUNCTION munigis_feature_audit();
        CREATE TRIGGER audit_update AFTER UPDATE ON features.%1$I REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
            FOR EACH STATEMENT EXECUTE FUNCTION munigis_feature_audit();
        CREATE TRIGGER audit_delete AFTER DELETE ON features.%1$I REFERENCING OLD TABLE AS old_rows
            FOR EACH STATEMENT EXECUTE FUNCTION munigis_feature_audit();', p_layer);
END $$;
REVOKE EXECUTE ON FUNCTION munigis_audit_layer_table(text) FROM PUBLIC;

-- munigis_create_layer_table (000002) now also adds the audit triggers. The
-- original is kept under another name and wrapped, so that its long body
-- is not copied. SECURITY DEFINER: the application role creates layers, but
-- the feature table belongs to the schema's owner, so the application
-- cannot drop its triggers; ALTER DEFAULT PRIVILEGES below gives the
-- application its rights on it.
ALTER FUNCTION munigis_create_layer_table(text) RENAME TO munigis_create_layer_table_v1;
ALTER FUNCTION munigis_create_layer_table_v1(text) SET search_path = public, pg_temp;
REVOKE EXECUTE ON FUNCTION munigis_create_layer_table_v1(text) FROM PUBLIC;

CREATE FUNCTION munigis_create_layer_table(p_layer text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    PERFORM munigis_create_layer_table_v1(p_layer);
    PERFORM munigis_audit_layer_table(p_layer);
END $$;

SELECT munigis_audit_layer_table(name) FROM layers ORDER BY name;

-- The catalog: one audit row per created, changed or removed layer or
-- layer type (a catalog statement touches few rows), with all values.
CREATE FUNCTION munigis_catalog_audit() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    kind text := CASE TG_TABLE_NAME WHEN 'layers' THEN 'layer' ELSE 'layer_type' END;
    verb text := CASE TG_OP WHEN 'INSERT' THEN 'create' WHEN 'UPDATE' THEN 'update' ELSE 'delete' END;
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO audit_log (action, object, after, address)
        SELECT kind || '.' || verb, kind || ':' || r.name, to_jsonb(r), nullif(current_setting('munigis.address', true), '')
        FROM new_rows r ORDER BY r.name;
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO audit_log (action, object, before, after, address)
        SELECT kind || '.' || verb, kind || ':' || n.name, to_jsonb(o), to_jsonb(n),
               nullif(current_setting('munigis.address', true), '')
        FROM new_rows n JOIN old_rows o USING (name)
        WHERE to_jsonb(o) IS DISTINCT FROM to_jsonb(n)
        ORDER BY n.name;
    ELSE
        INSERT INTO audit_log (action, object, before, address)
        SELECT kind || '.' || verb, kind || ':' || r.name, to_jsonb(r), nullif(current_setting('munigis.address', true), '')
        FROM old_rows r ORDER BY r.name;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER audit_insert AFTER INSERT ON layer_types REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION munigis_catalog_audit();
CREATE TRIGGER audit_update AFTER UPDATE ON layer_types REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION munigis_catalog_audit();
CREATE TRIGGER audit_delete AFTER DELETE ON layer_types REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION munigis_catalog_audit();
CREATE TRIGGER audit_insert AFTER INSERT ON layers REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION munigis_catalog_audit();
CREATE TRIGGER audit_update AFTER UPDATE ON layers REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION munigis_catalog_audit();
CREATE TRIGGER audit_delete AFTER DELETE ON layers REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION munigis_catalog_audit();

-- The application's role. Roles belong to the cluster, not the database,
-- so it is created only when missing (tests create many databases in one
-- cluster). NOLOGIN: munigis logs in as its own user and SET ROLEs to it
-- (postgis.Config.Role); the migrating user is made a member for that.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'munigis_app') THEN
        CREATE ROLE munigis_app NOLOGIN;
    END IF;
    IF NOT pg_has_role(current_user, 'munigis_app', 'MEMBER') THEN
        EXECUTE format('GRANT munigis_app TO %I', current_user);
    END IF;
END $$;

GRANT USAGE ON SCHEMA public, features TO munigis_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO munigis_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA features TO munigis_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public, features TO munigis_app;
-- Tables created later by this owner (feature tables made by
-- munigis_create_layer_table, tables of later migrations) get the same
-- rights; a later migration narrows them where it must, as here.
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO munigis_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA features GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO munigis_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public, features GRANT USAGE, SELECT ON SEQUENCES TO munigis_app;

-- The trail: read and append only; the head of the chain and the
-- migrations' record: read only (audit_chain(), as the owner, writes the head).
REVOKE ALL ON audit_log, audit_head, audit_pending, schema_migrations FROM munigis_app;
REVOKE ALL ON SEQUENCE audit_pending_pid_seq FROM munigis_app;
GRANT SELECT, INSERT ON audit_log TO munigis_app;
GRANT SELECT ON schema_migrations, audit_head TO munigis_app;
GRANT USAGE ON SEQUENCE audit_log_id_seq TO munigis_app;
REVOKE ALL ON spatial_ref_sys FROM munigis_app;
GRANT SELECT ON spatial_ref_sys TO munigis_app;

-- The partitions: no direct rights at all (the parent's rights apply to
-- rows reached through audit_log).
DO $$
DECLARE
    p regclass;
BEGIN
    FOR p IN SELECT inhrelid::regclass FROM pg_inherits WHERE inhparent = 'audit_log'::regclass LOOP
        EXECUTE format('REVOKE ALL ON %s FROM munigis_app', p);
    END LOOP;
END $$;
