-- The register engine (issue 6): registers keyed by the cadastral identifier.
--
-- A register type (register_types) names a register and its typed fields;
-- the entries of every register live in one table, register_entries, whose
-- spine is the same for all (number, date, status, cadastral identifiers,
-- parties) and whose other fields are a JSON object checked in Go against
-- the type (package registers, the one place that validates an entry).
-- Stamping, history, audit, the object and party indexes, the map layers and
-- the flags raised when the cadastre changes under an entry are triggers
-- here, so that an entry written straight in SQL (a demo load, a script) is
-- kept exactly like one written through munigis.

-- The cadastral objects of the three built-in cadastre layers in one
-- relation: the register layers, Related, Unresolved and the flags look
-- identifiers up here. UNION ALL of the three tables, each with its unique
-- text_pattern_ops index on identifier and its GiST indexes, so a query with
-- an identifier or a box reaches the indexes of every branch.
CREATE VIEW cadastral_objects AS
    SELECT id, identifier, 3 AS level, 'cadastre_parcels'::text AS layer, geom, geom_3857 FROM features.cadastre_parcels
    UNION ALL
    SELECT id, identifier, 4, 'cadastre_buildings', geom, geom_3857 FROM features.cadastre_buildings
    UNION ALL
    SELECT id, identifier, 5, 'cadastre_units', geom, geom_3857 FROM features.cadastre_units;

-- Every element a valid cadastral identifier (cadastral_id_valid of
-- 000002), none NULL. An empty list is valid: a taxi permit names no object.
CREATE FUNCTION cadastral_ids_valid(ids text[]) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT array_position(ids, NULL) IS NULL
       AND coalesce((SELECT bool_and(cadastral_id_valid(i)) FROM unnest(ids) i), true)
$$;

-- A date in a JSON value, or NULL when it is not one: the register layers
-- read dates out of register_entries.data, and one bad value written by
-- hand must not break every tile of the layer.
CREATE FUNCTION munigis_try_date(s text) RETURNS date
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
    IF s !~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' THEN
        RETURN NULL;
    END IF;
    RETURN s::date;
EXCEPTION WHEN others THEN
    RETURN NULL;
END $$;

CREATE TABLE register_types (
    -- At most 44 characters: the register's map layer is "reg_<name>", and
    -- layer names have at most 48.
    name            text PRIMARY KEY CONSTRAINT register_types_name CHECK (name ~ '^[a-z][a-z0-9_]{0,43}$'),
    title_bg        text NOT NULL CHECK (btrim(title_bg) <> ''),
    title_en        text NOT NULL CHECK (btrim(title_en) <> ''),
    -- [{"name", "type": text|integer|number|date|boolean|enum|person|persons|
    --   cadastral_ids|reference, "title_bg", "title_en", "required", "unique",
    --   "values" (enum), "register" (reference), "not_before" (date: another
    --   date field or "entry_date"), "public"}]. A field named "status" is
    -- the entry's status column; the one cadastral_ids field is its
    -- identifiers; person and persons fields are its parties (role = the
    -- field's name). Fields are only ever added, never removed or retyped
    -- (Go refuses), so that old entries stay readable.
    fields          jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(fields) = 'array'),
    -- Seed item 30: a published register is shown to the public, with its
    -- public fields only and natural persons masked.
    published       boolean NOT NULL DEFAULT false,
    built_in        boolean NOT NULL DEFAULT false,
    number_label_bg text NOT NULL DEFAULT 'Номер',
    number_label_en text NOT NULL DEFAULT 'Number',
    date_label_bg   text NOT NULL DEFAULT 'Дата',
    date_label_en   text NOT NULL DEFAULT 'Date',
    created_at      timestamptz NOT NULL DEFAULT date_trunc('second', now()),
    created_by      text NOT NULL DEFAULT munigis_actor(),
    updated_at      timestamptz NOT NULL DEFAULT date_trunc('second', now()),
    updated_by      text NOT NULL DEFAULT munigis_actor()
);

CREATE TABLE register_entries (
    id          bigserial PRIMARY KEY,
    register    text NOT NULL REFERENCES register_types (name),
    -- The act, permit or contract number, unique within its register.
    number      text NOT NULL CONSTRAINT register_entries_number CHECK (btrim(number) <> ''),
    entry_date  date,
    status      text,
    identifiers text[] NOT NULL DEFAULT '{}'
                CONSTRAINT identifiers_cadastral_id CHECK (cadastral_ids_valid(identifiers)),
    -- [{"person_id": 12, "role": "holder"}]
    parties     jsonb NOT NULL DEFAULT '[]' CONSTRAINT register_entries_parties CHECK (jsonb_typeof(parties) = 'array'),
    data        jsonb NOT NULL DEFAULT '{}' CONSTRAINT register_entries_data CHECK (jsonb_typeof(data) = 'object'),
    -- Derived by the stamp trigger, never written by hand: the folded text
    -- of the number, identifiers, text values and parties' names, and its
    -- Latin transliteration, so that "Troyan" finds "Троян" and back.
    search_text text NOT NULL DEFAULT '',
    version     integer NOT NULL DEFAULT 1,
    created_at  timestamptz NOT NULL DEFAULT date_trunc('second', now()),
    created_by  text NOT NULL DEFAULT munigis_actor(),
    updated_at  timestamptz NOT NULL DEFAULT date_trunc('second', now()),
    updated_by  text NOT NULL DEFAULT munigis_actor(),
    CONSTRAINT register_entries_number_key UNIQUE (register, number)
);
CREATE INDEX register_entries_search ON register_entries USING gin (search_text gin_trgm_ops);
CREATE INDEX register_entries_number_prefix ON register_entries (munigis_fold(number) text_pattern_ops);
-- Searches list the newest entries first (by date, then id): with these a
-- common word ("Ботев", in a sixth of 200,000 entries) walks the newest
-- entries until a page is full (under 1 ms) instead of sorting every match
-- (260 ms); a rare one still goes through the trigram index.
CREATE INDEX register_entries_newest ON register_entries (entry_date DESC NULLS LAST, id DESC);
CREATE INDEX register_entries_register_newest ON register_entries (register, entry_date DESC NULLS LAST, id DESC);

-- One row per (entry, identifier), kept by a trigger from
-- register_entries.identifiers. id is the stable feature id of the entry on
-- that object in the register's map layer; text_pattern_ops serves the
-- prefix search for everything below an object (a parcel's buildings and
-- their units are identifier LIKE '<parcel>.%').
CREATE TABLE entry_objects (
    id         bigserial UNIQUE,
    entry_id   bigint NOT NULL REFERENCES register_entries (id) ON DELETE CASCADE,
    identifier text NOT NULL,
    PRIMARY KEY (entry_id, identifier)
);
CREATE INDEX entry_objects_identifier ON entry_objects (identifier text_pattern_ops);

-- One row per (entry, person, role), kept from register_entries.parties:
-- the search by person and the FK that no entry names a person who does
-- not exist.
CREATE TABLE entry_parties (
    entry_id  bigint NOT NULL REFERENCES register_entries (id) ON DELETE CASCADE,
    person_id bigint NOT NULL REFERENCES persons (id),
    role      text NOT NULL,
    PRIMARY KEY (entry_id, person_id, role)
);
CREATE INDEX entry_parties_person ON entry_parties (person_id);

-- Earlier versions of every entry, like feature_versions: the current row
-- is the latest version, this table everything before it.
CREATE TABLE register_entry_versions (
    entry_id    bigint NOT NULL,
    register    text NOT NULL,
    version     integer NOT NULL,
    number      text NOT NULL,
    entry_date  date,
    status      text,
    identifiers text[] NOT NULL,
    parties     jsonb NOT NULL,
    data        jsonb NOT NULL,
    valid_from  timestamptz NOT NULL,
    created_by  text NOT NULL,
    valid_to    timestamptz NOT NULL,
    ended_by    text NOT NULL,
    ended_how   text NOT NULL CHECK (ended_how IN ('update', 'delete')),
    PRIMARY KEY (entry_id, version)
);

-- Stamps version and who/when like munigis_feature_stamp and derives
-- search_text. An UPDATE that changes none of the entry's own columns is a
-- re-index (a party's name changed, see munigis_person_reindex): it
-- recomputes search_text only, without a new version.
CREATE FUNCTION munigis_entry_stamp() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    _t text;
BEGIN
    SELECT concat_ws(' ', NEW.number, array_to_string(NEW.identifiers, ' '),
               (SELECT string_agg(_v #>> '{}', ' ') FROM jsonb_each(NEW.data) _d(_k, _v)
                WHERE jsonb_typeof(_v) = 'string'),
               (SELECT string_agg(_p.name, ' ') FROM persons _p
                WHERE _p.id IN (SELECT (_x ->> 'person_id')::bigint FROM jsonb_array_elements(NEW.parties) _x
                                WHERE jsonb_typeof(_x -> 'person_id') = 'number')))
    INTO _t;
    NEW.search_text := munigis_fold(_t) || ' ' || munigis_translit(_t);
    IF TG_OP = 'INSERT' THEN
        NEW.version := 1;
        NEW.created_at := date_trunc('second', now());
        NEW.created_by := munigis_actor();
    ELSE
        NEW.id := OLD.id;
        NEW.created_at := OLD.created_at;
        NEW.created_by := OLD.created_by;
        IF (NEW.register, NEW.number, NEW.entry_date, NEW.status, NEW.identifiers, NEW.parties, NEW.data)
           IS NOT DISTINCT FROM (OLD.register, OLD.number, OLD.entry_date, OLD.status, OLD.identifiers, OLD.parties, OLD.data) THEN
            NEW.version := OLD.version;
            NEW.updated_at := OLD.updated_at;
            NEW.updated_by := OLD.updated_by;
            RETURN NEW;
        END IF;
        NEW.version := OLD.version + 1;
    END IF;
    NEW.updated_at := date_trunc('second', now());
    NEW.updated_by := munigis_actor();
    RETURN NEW;
END $$;

CREATE FUNCTION munigis_entry_history() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO register_entry_versions (entry_id, register, version, number, entry_date, status, identifiers,
                                         parties, data, valid_from, created_by, valid_to, ended_by, ended_how)
    VALUES (OLD.id, OLD.register, OLD.version, OLD.number, OLD.entry_date, OLD.status, OLD.identifiers,
            OLD.parties, OLD.data, OLD.updated_at, OLD.updated_by, date_trunc('second', now()), munigis_actor(),
            lower(TG_OP));
    RETURN NULL;
END $$;

-- Keeps entry_objects and entry_parties equal to the identifiers and
-- parties of the entries a statement wrote. Rows of identifiers an entry
-- keeps are left alone, so the map layer's feature ids stay stable.
CREATE FUNCTION munigis_entry_index() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        DELETE FROM entry_objects _o USING new_rows _n
        WHERE _o.entry_id = _n.id AND NOT (_o.identifier = ANY (_n.identifiers));
        DELETE FROM entry_parties _ep USING new_rows _n
        WHERE _ep.entry_id = _n.id AND NOT EXISTS (
            SELECT 1 FROM jsonb_array_elements(_n.parties) _x
            WHERE (_x ->> 'person_id')::bigint = _ep.person_id AND _x ->> 'role' = _ep.role);
    END IF;
    INSERT INTO entry_objects (entry_id, identifier)
    SELECT _n.id, _i FROM new_rows _n, unnest(_n.identifiers) _i
    ON CONFLICT DO NOTHING;
    INSERT INTO entry_parties (entry_id, person_id, role)
    SELECT _n.id, (_x ->> 'person_id')::bigint, coalesce(_x ->> 'role', '')
    FROM new_rows _n, jsonb_array_elements(_n.parties) _x
    ON CONFLICT DO NOTHING;
    RETURN NULL;
END $$;

-- The audit trail, per statement like munigis_feature_audit (000007): one
-- row per register and per 10,000 entries, the values copied when the
-- statement wrote at most 100 entries (every edit by a person), else the
-- ids and versions (a demo load, a bulk change). Object register:<name>/<id>
-- for one entry, else register:<name>. A re-index (no new version) is not
-- a change and is not recorded. Every name of its own starts with "_".
CREATE FUNCTION munigis_entry_audit() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    _copy_limit constant int := 100;
    _chunk      constant int := 10000;
    _action     text := 'register_entry.' || lower(TG_OP);
    _address    text := nullif(current_setting('munigis.address', true), '');
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO audit_log (action, object, after, address)
        SELECT _action,
               CASE WHEN count(*) = 1 THEN format('register:%s/%s', _register, min(id)) ELSE 'register:' || _register END,
               jsonb_build_object('register', _register, 'count', count(*), 'ids', jsonb_agg(id ORDER BY id))
                 || CASE WHEN max(_n) <= _copy_limit
                         THEN jsonb_build_object('entries', jsonb_agg(_v ORDER BY id))
                         ELSE jsonb_build_object('versions', jsonb_agg(version ORDER BY id),
                                                 'values_in', 'register_entries') END,
               _address
        FROM (SELECT id, version, register AS _register,
                     count(*) OVER (PARTITION BY register) AS _n,
                     (row_number() OVER (PARTITION BY register ORDER BY id) - 1) / _chunk AS _c,
                     to_jsonb(_r) - 'search_text' AS _v
              FROM new_rows _r) _s
        GROUP BY _register, _c ORDER BY _register, _c;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO audit_log (action, object, before, address)
        SELECT _action,
               CASE WHEN count(*) = 1 THEN format('register:%s/%s', _register, min(id)) ELSE 'register:' || _register END,
               jsonb_build_object('register', _register, 'count', count(*), 'ids', jsonb_agg(id ORDER BY id))
                 || CASE WHEN max(_n) <= _copy_limit
                         THEN jsonb_build_object('entries', jsonb_agg(_v ORDER BY id))
                         ELSE jsonb_build_object('versions', jsonb_agg(version ORDER BY id),
                                                 'values_in', 'register_entry_versions') END,
               _address
        FROM (SELECT id, version, register AS _register,
                     count(*) OVER (PARTITION BY register) AS _n,
                     (row_number() OVER (PARTITION BY register ORDER BY id) - 1) / _chunk AS _c,
                     to_jsonb(_r) - 'search_text' AS _v
              FROM old_rows _r) _s
        GROUP BY _register, _c ORDER BY _register, _c;
    ELSE
        INSERT INTO audit_log (action, object, before, after, address)
        SELECT _action,
               CASE WHEN count(*) = 1 THEN format('register:%s/%s', _register, min(id)) ELSE 'register:' || _register END,
               jsonb_build_object('register', _register, 'count', count(*), 'ids', jsonb_agg(id ORDER BY id))
                 || CASE WHEN max(_n) <= _copy_limit
                         THEN jsonb_build_object('entries', jsonb_agg(_ov ORDER BY id))
                         ELSE jsonb_build_object('versions', jsonb_agg(_oversion ORDER BY id),
                                                 'values_in', 'register_entry_versions') END,
               jsonb_build_object('register', _register, 'count', count(*), 'ids', jsonb_agg(id ORDER BY id))
                 || CASE WHEN max(_n) <= _copy_limit
                         THEN jsonb_build_object('entries', jsonb_agg(_nv ORDER BY id))
                         ELSE jsonb_build_object('versions', jsonb_agg(_nversion ORDER BY id),
                                                 'values_in', 'register_entries') END,
               _address
        FROM (SELECT _nr.id, _o.version AS _oversion, _nr.version AS _nversion, _nr.register AS _register,
                     count(*) OVER (PARTITION BY _nr.register) AS _n,
                     (row_number() OVER (PARTITION BY _nr.register ORDER BY _nr.id) - 1) / _chunk AS _c,
                     to_jsonb(_o) - 'search_text' AS _ov,
                     to_jsonb(_nr) - 'search_text' AS _nv
              FROM new_rows _nr JOIN old_rows _o ON _o.id = _nr.id
              WHERE _nr.version <> _o.version) _s
        GROUP BY _register, _c ORDER BY _register, _c;
    END IF;
    RETURN NULL;
END $$;

-- The tile caches (000006): a statement that wrote entries announces, per
-- register, the EPSG:3857 extent of the objects of the entries before and
-- after, under the register's layer name. One function per event, because
-- each event has its own transition tables.
CREATE FUNCTION munigis_entry_tiles_notify_update() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    _rec record;
BEGIN
    FOR _rec IN
        WITH _ids AS (
            SELECT _r.register AS _register, _i AS _identifier FROM new_rows _r, unnest(_r.identifiers) _i
            UNION
            SELECT _r.register, _i FROM old_rows _r, unnest(_r.identifiers) _i)
        SELECT _register, ST_Extent(_c.geom_3857) AS _b
        FROM _ids JOIN cadastral_objects _c ON _c.identifier = _ids._identifier
        GROUP BY _register
    LOOP
        PERFORM pg_notify('munigis_tiles', json_build_object('layer', 'reg_' || _rec._register,
            'bbox', json_build_array(ST_XMin(_rec._b), ST_YMin(_rec._b), ST_XMax(_rec._b), ST_YMax(_rec._b)))::text);
    END LOOP;
    RETURN NULL;
END $$;

CREATE FUNCTION munigis_entry_tiles_notify_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    _rec record;
BEGIN
    FOR _rec IN
        SELECT _r.register AS _register, ST_Extent(_c.geom_3857) AS _b
        FROM new_rows _r, unnest(_r.identifiers) _i JOIN cadastral_objects _c ON _c.identifier = _i
        GROUP BY _r.register
    LOOP
        PERFORM pg_notify('munigis_tiles', json_build_object('layer', 'reg_' || _rec._register,
            'bbox', json_build_array(ST_XMin(_rec._b), ST_YMin(_rec._b), ST_XMax(_rec._b), ST_YMax(_rec._b)))::text);
    END LOOP;
    RETURN NULL;
END $$;

CREATE FUNCTION munigis_entry_tiles_notify_delete() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    _rec record;
BEGIN
    FOR _rec IN
        SELECT _r.register AS _register, ST_Extent(_c.geom_3857) AS _b
        FROM old_rows _r, unnest(_r.identifiers) _i JOIN cadastral_objects _c ON _c.identifier = _i
        GROUP BY _r.register
    LOOP
        PERFORM pg_notify('munigis_tiles', json_build_object('layer', 'reg_' || _rec._register,
            'bbox', json_build_array(ST_XMin(_rec._b), ST_YMin(_rec._b), ST_XMax(_rec._b), ST_YMax(_rec._b)))::text);
    END LOOP;
    RETURN NULL;
END $$;

CREATE TRIGGER stamp BEFORE INSERT OR UPDATE ON register_entries
    FOR EACH ROW EXECUTE FUNCTION munigis_entry_stamp();
CREATE TRIGGER history_update AFTER UPDATE ON register_entries
    FOR EACH ROW WHEN (OLD.version IS DISTINCT FROM NEW.version) EXECUTE FUNCTION munigis_entry_history();
CREATE TRIGGER history_delete AFTER DELETE ON register_entries
    FOR EACH ROW EXECUTE FUNCTION munigis_entry_history();
CREATE TRIGGER index_insert AFTER INSERT ON register_entries REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION munigis_entry_index();
CREATE TRIGGER index_update AFTER UPDATE ON register_entries REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION munigis_entry_index();
CREATE TRIGGER audit_insert AFTER INSERT ON register_entries REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION munigis_entry_audit();
CREATE TRIGGER audit_update AFTER UPDATE ON register_entries REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION munigis_entry_audit();
CREATE TRIGGER audit_delete AFTER DELETE ON register_entries REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION munigis_entry_audit();
CREATE TRIGGER tiles_insert AFTER INSERT ON register_entries REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION munigis_entry_tiles_notify_insert();
CREATE TRIGGER tiles_update AFTER UPDATE ON register_entries REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION munigis_entry_tiles_notify_update();
CREATE TRIGGER tiles_delete AFTER DELETE ON register_entries REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION munigis_entry_tiles_notify_delete();

CREATE FUNCTION munigis_entry_forbid_truncate() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = 'MG002',
        MESSAGE = format('%s cannot be truncated: it would lose the history of register entries; use DELETE', TG_TABLE_NAME);
END $$;
CREATE TRIGGER no_truncate BEFORE TRUNCATE ON register_entries
    FOR EACH STATEMENT EXECUTE FUNCTION munigis_entry_forbid_truncate();
CREATE TRIGGER no_truncate BEFORE TRUNCATE ON register_entry_versions
    FOR EACH STATEMENT EXECUTE FUNCTION munigis_entry_forbid_truncate();

-- A person's new name reaches the search text of that person's entries
-- (a re-index: no new version of the entries, see munigis_entry_stamp).
CREATE FUNCTION munigis_person_reindex() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE register_entries SET search_text = ''
    WHERE id IN (SELECT _ep.entry_id FROM entry_parties _ep JOIN new_rows _n ON _n.id = _ep.person_id
                 JOIN old_rows _o ON _o.id = _n.id WHERE _n.name IS DISTINCT FROM _o.name);
    RETURN NULL;
END $$;
CREATE TRIGGER reindex_entries AFTER UPDATE ON persons REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION munigis_person_reindex();

-- Register types are audited like the layer catalog (000004): one row per
-- created or changed type, all values.
CREATE FUNCTION munigis_register_type_audit() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    _address text := nullif(current_setting('munigis.address', true), '');
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO audit_log (action, object, after, address)
        SELECT 'register_type.create', 'register_type:' || _r.name, to_jsonb(_r), _address
        FROM new_rows _r ORDER BY _r.name;
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO audit_log (action, object, before, after, address)
        SELECT 'register_type.update', 'register_type:' || _n.name, to_jsonb(_o), to_jsonb(_n), _address
        FROM new_rows _n JOIN old_rows _o ON _o.name = _n.name
        WHERE to_jsonb(_o) IS DISTINCT FROM to_jsonb(_n) ORDER BY _n.name;
    ELSE
        INSERT INTO audit_log (action, object, before, address)
        SELECT 'register_type.delete', 'register_type:' || _r.name, to_jsonb(_r), _address
        FROM old_rows _r ORDER BY _r.name;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER audit_insert AFTER INSERT ON register_types REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION munigis_register_type_audit();
CREATE TRIGGER audit_update AFTER UPDATE ON register_types REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION munigis_register_type_audit();
CREATE TRIGGER audit_delete AFTER DELETE ON register_types REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION munigis_register_type_audit();

-- ---------------------------------------------------------------------------
-- Register map layers: every register is also a catalog layer "reg_<name>"
-- (source 'register', source_layer the register), public exactly when the
-- register is published, whose feature table is a view with one row per
-- (entry, identifier) drawn on the cadastral object's geometry, so tiles,
-- WMS, WFS and OGC API read it like any layer. Entries whose identifier
-- matches no object are not drawn (see registers.Store.Unresolved).

ALTER TABLE layers DROP CONSTRAINT layers_source_check;
ALTER TABLE layers ADD CONSTRAINT layers_source_check CHECK (source IN ('local', 'wms', 'wfs', 'register'));
ALTER TABLE layers DROP CONSTRAINT layers_check1;
ALTER TABLE layers ADD CONSTRAINT layers_source_url CHECK ((source IN ('local', 'register')) = (source_url IS NULL));
ALTER TABLE layers ADD CONSTRAINT layers_register_source CHECK (source <> 'register' OR name = 'reg_' || source_layer);

-- Creates or refreshes the layer type, the layer and the view of register
-- p_register. Called by the trigger on register_types, so a new type, an
-- added field, a changed publication or field visibility reach the map at
-- once. SECURITY DEFINER: the application creates register types, but the
-- view belongs to the schema's owner (like munigis_create_layer_table).
CREATE FUNCTION munigis_create_register_layer(p_register text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    _rt      register_types;
    _f       jsonb;
    _attrs   jsonb;
    _cols    text := '';
    _status  jsonb;
    _name    text;
    _layer   text;
BEGIN
    SELECT * INTO STRICT _rt FROM register_types WHERE name = p_register;
    _layer := 'reg_' || _rt.name;
    SELECT _x INTO _status FROM jsonb_array_elements(_rt.fields) _x WHERE _x ->> 'name' = 'status';
    _attrs := jsonb_build_array(
        jsonb_build_object('name', 'entry_id', 'type', 'integer', 'title_bg', 'Вписване', 'title_en', 'Entry'),
        jsonb_build_object('name', 'number', 'type', 'text', 'title_bg', _rt.number_label_bg, 'title_en', _rt.number_label_en),
        jsonb_build_object('name', 'entry_date', 'type', 'date', 'title_bg', _rt.date_label_bg, 'title_en', _rt.date_label_en),
        jsonb_build_object('name', 'status', 'type', 'text',
            'title_bg', coalesce(_status ->> 'title_bg', 'Състояние'), 'title_en', coalesce(_status ->> 'title_en', 'Status'))
            || CASE WHEN coalesce((_status ->> 'public')::boolean, true) THEN '{}'::jsonb ELSE '{"internal": true}' END,
        jsonb_build_object('name', 'identifier', 'type', 'cadastral_id', 'title_bg', 'Идентификатор', 'title_en', 'Identifier'));
    FOR _f IN SELECT * FROM jsonb_array_elements(_rt.fields) LOOP
        _name := _f ->> 'name';
        CONTINUE WHEN _name = 'status' OR _name !~ '^[a-z][a-z0-9_]{0,47}$'
            OR (_f ->> 'type') NOT IN ('text', 'integer', 'number', 'date', 'boolean', 'enum', 'reference');
        _attrs := _attrs || jsonb_build_array(jsonb_build_object('name', _name,
                'type', CASE _f ->> 'type' WHEN 'reference' THEN 'integer' ELSE _f ->> 'type' END,
                'title_bg', _f ->> 'title_bg', 'title_en', _f ->> 'title_en')
            || CASE WHEN _f ->> 'type' = 'enum' THEN jsonb_build_object('values', _f -> 'values') ELSE '{}' END
            || CASE WHEN coalesce((_f ->> 'public')::boolean, false) THEN '{}'::jsonb ELSE '{"internal": true}' END);
        -- Casts that give NULL for a value of the wrong kind: one bad row
        -- written by hand must not break the layer.
        _cols := _cols || ', ' || CASE _f ->> 'type'
            WHEN 'integer' THEN format('CASE WHEN jsonb_typeof(e.data -> %L) = ''number'' THEN (e.data ->> %L)::numeric::bigint END', _name, _name)
            WHEN 'reference' THEN format('CASE WHEN jsonb_typeof(e.data -> %L) = ''number'' THEN (e.data ->> %L)::numeric::bigint END', _name, _name)
            WHEN 'number' THEN format('CASE WHEN jsonb_typeof(e.data -> %L) = ''number'' THEN (e.data ->> %L)::double precision END', _name, _name)
            WHEN 'boolean' THEN format('CASE WHEN jsonb_typeof(e.data -> %L) = ''boolean'' THEN (e.data ->> %L)::boolean END', _name, _name)
            WHEN 'date' THEN format('munigis_try_date(e.data ->> %L)', _name)
            ELSE format('e.data ->> %L', _name)
        END || format(' AS %I', _name);
    END LOOP;

    INSERT INTO layer_types (name, title_bg, title_en, geometry_type, attributes, built_in, default_style)
    VALUES (_layer, _rt.title_bg, _rt.title_en, 'MultiPolygon', _attrs, _rt.built_in, 'register')
    ON CONFLICT (name) DO UPDATE SET title_bg = EXCLUDED.title_bg, title_en = EXCLUDED.title_en,
        attributes = EXCLUDED.attributes
    WHERE (layer_types.title_bg, layer_types.title_en, layer_types.attributes)
          IS DISTINCT FROM (EXCLUDED.title_bg, EXCLUDED.title_en, EXCLUDED.attributes);
    INSERT INTO layers (name, layer_type, title_bg, title_en, visibility, min_zoom, max_zoom, style,
                        source, source_layer, sort_order)
    VALUES (_layer, _layer, _rt.title_bg, _rt.title_en,
            -- Public only when the register is published and its
            -- identifiers are public fields: the map shows where the
            -- entries are.
            CASE WHEN _rt.published AND EXISTS (SELECT 1 FROM jsonb_array_elements(_rt.fields) _x
                    WHERE _x ->> 'type' = 'cadastral_ids' AND coalesce((_x ->> 'public')::boolean, false))
                 THEN 'public' ELSE 'internal' END, 12, 22, 'register', 'register', _rt.name, 200)
    ON CONFLICT (name) DO UPDATE SET title_bg = EXCLUDED.title_bg, title_en = EXCLUDED.title_en,
        visibility = EXCLUDED.visibility, updated_at = date_trunc('second', now()), updated_by = munigis_actor()
    WHERE (layers.title_bg, layers.title_en, layers.visibility)
          IS DISTINCT FROM (EXCLUDED.title_bg, EXCLUDED.title_en, EXCLUDED.visibility);

    -- Fields are only added, so the view's columns only grow; it is
    -- rebuilt whole (nothing depends on it).
    EXECUTE format('DROP VIEW IF EXISTS features.%I', _layer);
    EXECUTE format($v$
        CREATE VIEW features.%I AS
        SELECT o.id, o.entry_id, e.number, e.entry_date, e.status, o.identifier%s,
               c.geom, c.geom_3857, e.version, e.created_at, e.created_by, e.updated_at, e.updated_by
        FROM entry_objects o
        JOIN register_entries e ON e.id = o.entry_id
        JOIN cadastral_objects c ON c.identifier = o.identifier
        WHERE e.register = %L$v$, _layer, _cols, _rt.name);
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'munigis_app') THEN
        EXECUTE format('GRANT SELECT ON features.%I TO munigis_app', _layer);
    END IF;
END $$;
REVOKE EXECUTE ON FUNCTION munigis_create_register_layer(text) FROM PUBLIC;

-- SECURITY DEFINER: the application may not call
-- munigis_create_register_layer itself, only through a register type.
CREATE FUNCTION munigis_register_type_layer() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    PERFORM munigis_create_register_layer(NEW.name);
    RETURN NULL;
END $$;
CREATE TRIGGER layer AFTER INSERT OR UPDATE ON register_types
    FOR EACH ROW EXECUTE FUNCTION munigis_register_type_layer();

-- ---------------------------------------------------------------------------
-- Flags: an entry whose cadastral object stopped existing (a parcel split,
-- merged or re-numbered) is flagged with the old identifier and the objects
-- of the same level that now cover more than 10 % of the old one's area. It
-- is never re-keyed by itself: a person resolves the flag
-- (registers.Store.Resolve), which writes a new version of the entry.

CREATE TABLE register_flags (
    id          bigserial PRIMARY KEY,
    entry_id    bigint NOT NULL REFERENCES register_entries (id) ON DELETE CASCADE,
    identifier  text NOT NULL,
    layer       text NOT NULL,
    reason      text NOT NULL CHECK (reason IN ('deleted', 'renumbered')),
    old_geom    geometry(Geometry, 7801),
    suggested   text[] NOT NULL DEFAULT '{}',
    created_at  timestamptz NOT NULL DEFAULT date_trunc('second', now()),
    created_by  text NOT NULL DEFAULT munigis_actor(),
    resolved_at timestamptz,
    resolved_by text,
    -- The identifiers the entry got instead of the old one (may be empty:
    -- "keep the old identifier", e.g. the object was removed by mistake).
    resolution  text[],
    CHECK ((resolved_at IS NULL) = (resolved_by IS NULL))
);
CREATE UNIQUE INDEX register_flags_open ON register_flags (entry_id, identifier) WHERE resolved_at IS NULL;
CREATE INDEX register_flags_entry ON register_flags (entry_id);

-- Identifiers in use by entries that a cadastre statement removed or
-- renamed, waiting for the commit: only then is it known whether the
-- identifier is really gone (a reload deletes and re-inserts the same
-- parcels in one transaction) and which new objects replaced it.
CREATE TABLE register_flag_pending (
    pid        bigserial PRIMARY KEY,
    identifier text NOT NULL,
    layer      text NOT NULL,
    reason     text NOT NULL,
    old_geom   geometry(Geometry, 7801)
);

CREATE FUNCTION munigis_cadastre_flag_capture() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        INSERT INTO register_flag_pending (identifier, layer, reason, old_geom)
        SELECT _o.identifier, TG_TABLE_NAME, 'deleted', _o.geom FROM old_rows _o
        WHERE EXISTS (SELECT 1 FROM entry_objects _eo WHERE _eo.identifier = _o.identifier);
    ELSE
        INSERT INTO register_flag_pending (identifier, layer, reason, old_geom)
        SELECT _o.identifier, TG_TABLE_NAME, 'renumbered', _o.geom
        FROM old_rows _o JOIN new_rows _n ON _n.id = _o.id
        WHERE _n.identifier IS DISTINCT FROM _o.identifier
          AND EXISTS (SELECT 1 FROM entry_objects _eo WHERE _eo.identifier = _o.identifier);
    END IF;
    RETURN NULL;
END $$;

-- At commit: if the identifier is (again) an object, nothing happened;
-- otherwise flag each entry on it, with the suggestions.
CREATE FUNCTION munigis_cadastre_flag_resolve() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    _suggested text[];
    _level     int := cadastral_id_level(NEW.identifier);
BEGIN
    DELETE FROM register_flag_pending WHERE pid = NEW.pid;
    IF EXISTS (SELECT 1 FROM cadastral_objects WHERE identifier = NEW.identifier) THEN
        RETURN NULL;
    END IF;
    SELECT coalesce(array_agg(_c.identifier ORDER BY _c.identifier), '{}') INTO _suggested
    FROM cadastral_objects _c
    WHERE _c.level = _level AND NEW.old_geom IS NOT NULL AND _c.geom && NEW.old_geom
      AND ST_Area(ST_Intersection(_c.geom, NEW.old_geom)) > 0.1 * ST_Area(NEW.old_geom);
    WITH _new AS (
        INSERT INTO register_flags (entry_id, identifier, layer, reason, old_geom, suggested)
        SELECT _eo.entry_id, NEW.identifier, NEW.layer, NEW.reason, NEW.old_geom, _suggested
        FROM entry_objects _eo WHERE _eo.identifier = NEW.identifier
        ON CONFLICT (entry_id, identifier) WHERE resolved_at IS NULL DO NOTHING
        RETURNING id, entry_id)
    INSERT INTO audit_log (action, object, after, address)
    SELECT 'register_flag.create', 'register_flag:' || _new.id,
           jsonb_build_object('entry_id', _new.entry_id, 'identifier', NEW.identifier, 'reason', NEW.reason,
                              'suggested', to_jsonb(_suggested)),
           nullif(current_setting('munigis.address', true), '')
    FROM _new;
    RETURN NULL;
END $$;

CREATE CONSTRAINT TRIGGER resolve AFTER INSERT ON register_flag_pending
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW EXECUTE FUNCTION munigis_cadastre_flag_resolve();

DO $$
DECLARE
    _t text;
BEGIN
    FOREACH _t IN ARRAY ARRAY['cadastre_parcels', 'cadastre_buildings', 'cadastre_units'] LOOP
        EXECUTE format('
            CREATE TRIGGER register_flags_delete AFTER DELETE ON features.%1$I REFERENCING OLD TABLE AS old_rows
                FOR EACH STATEMENT EXECUTE FUNCTION munigis_cadastre_flag_capture();
            CREATE TRIGGER register_flags_update AFTER UPDATE ON features.%1$I REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
                FOR EACH STATEMENT EXECUTE FUNCTION munigis_cadastre_flag_capture();', _t);
    END LOOP;
END $$;

-- A cadastral object that appears, moves or goes changes the register
-- layers drawn on it (an unresolved entry appears when its parcel is
-- added): announce it to the tile caches under each register layer's name.
-- Skipped while no entry exists, so loading the cadastre costs nothing.
CREATE FUNCTION munigis_cadastre_register_tiles() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    _rec record;
BEGIN
    IF NOT EXISTS (SELECT 1 FROM entry_objects) THEN
        RETURN NULL;
    END IF;
    -- PL/pgSQL plans a statement when it first runs it, so each branch
    -- names only the transition tables its event has.
    IF TG_OP = 'INSERT' THEN
        FOR _rec IN SELECT _e.register AS _register, ST_Extent(_r.geom_3857) AS _b
                    FROM new_rows _r JOIN entry_objects _o ON _o.identifier = _r.identifier
                    JOIN register_entries _e ON _e.id = _o.entry_id GROUP BY _e.register LOOP
            PERFORM pg_notify('munigis_tiles', json_build_object('layer', 'reg_' || _rec._register,
                'bbox', json_build_array(ST_XMin(_rec._b), ST_YMin(_rec._b), ST_XMax(_rec._b), ST_YMax(_rec._b)))::text);
        END LOOP;
    ELSIF TG_OP = 'DELETE' THEN
        FOR _rec IN SELECT _e.register AS _register, ST_Extent(_r.geom_3857) AS _b
                    FROM old_rows _r JOIN entry_objects _o ON _o.identifier = _r.identifier
                    JOIN register_entries _e ON _e.id = _o.entry_id GROUP BY _e.register LOOP
            PERFORM pg_notify('munigis_tiles', json_build_object('layer', 'reg_' || _rec._register,
                'bbox', json_build_array(ST_XMin(_rec._b), ST_YMin(_rec._b), ST_XMax(_rec._b), ST_YMax(_rec._b)))::text);
        END LOOP;
    ELSE
        FOR _rec IN SELECT _e.register AS _register, ST_Extent(_r.geom_3857) AS _b
                    FROM (SELECT identifier, geom_3857 FROM old_rows UNION ALL SELECT identifier, geom_3857 FROM new_rows) _r
                    JOIN entry_objects _o ON _o.identifier = _r.identifier
                    JOIN register_entries _e ON _e.id = _o.entry_id GROUP BY _e.register LOOP
            PERFORM pg_notify('munigis_tiles', json_build_object('layer', 'reg_' || _rec._register,
                'bbox', json_build_array(ST_XMin(_rec._b), ST_YMin(_rec._b), ST_XMax(_rec._b), ST_YMax(_rec._b)))::text);
        END LOOP;
    END IF;
    RETURN NULL;
END $$;

DO $$
DECLARE
    _t text;
BEGIN
    FOREACH _t IN ARRAY ARRAY['cadastre_parcels', 'cadastre_buildings', 'cadastre_units'] LOOP
        EXECUTE format('
            CREATE TRIGGER register_tiles_insert AFTER INSERT ON features.%1$I REFERENCING NEW TABLE AS new_rows
                FOR EACH STATEMENT EXECUTE FUNCTION munigis_cadastre_register_tiles();
            CREATE TRIGGER register_tiles_update AFTER UPDATE ON features.%1$I REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
                FOR EACH STATEMENT EXECUTE FUNCTION munigis_cadastre_register_tiles();
            CREATE TRIGGER register_tiles_delete AFTER DELETE ON features.%1$I REFERENCING OLD TABLE AS old_rows
                FOR EACH STATEMENT EXECUTE FUNCTION munigis_cadastre_register_tiles();', _t);
    END LOOP;
END $$;

-- The application reads the history and the flags and appends through the
-- triggers; it never rewrites history.
REVOKE UPDATE, DELETE ON register_entry_versions FROM munigis_app;

-- Default register grants, like the layer grants of 000005: clerks keep the
-- registers, planners keep them too (building permits), inspectors read.
INSERT INTO grants (subject_kind, subject, object_kind, object, permission, granted_by) VALUES
    ('role', 'planner', 'register', '*', 'read', 'system:migration'),
    ('role', 'planner', 'register', '*', 'edit', 'system:migration'),
    ('role', 'clerk', 'register', '*', 'read', 'system:migration'),
    ('role', 'clerk', 'register', '*', 'edit', 'system:migration'),
    ('role', 'inspector', 'register', '*', 'read', 'system:migration');

-- ---------------------------------------------------------------------------
-- The built-in register types (issue 6; seed items 5, 6, 9, 12, 16, 30).
-- The last four are the long tail, defined as data exactly as a
-- municipality defines its own.

-- Like the built-in layers of 000003, they are part of the schema, not an
-- act of anyone: the audit trail starts empty after migrating.
ALTER TABLE register_types DISABLE TRIGGER audit_insert;
ALTER TABLE layer_types DISABLE TRIGGER audit_insert;
ALTER TABLE layers DISABLE TRIGGER audit_insert;

INSERT INTO register_types (name, title_bg, title_en, published, built_in, number_label_bg, number_label_en,
                            date_label_bg, date_label_en, fields) VALUES
('municipal_property', 'Актове за общинска собственост', 'Municipal property (acts of municipal ownership)', true, true,
 'Акт №', 'Act No.', 'Дата на акта', 'Act date', '[
  {"name": "kind", "type": "enum", "title_bg": "Вид собственост", "title_en": "Kind of ownership", "required": true, "public": true,
   "values": ["публична", "частна"]},
  {"name": "identifiers", "type": "cadastral_ids", "title_bg": "Кадастрални идентификатори", "title_en": "Cadastral identifiers", "public": true},
  {"name": "basis", "type": "text", "title_bg": "Правно основание", "title_en": "Legal basis", "public": true},
  {"name": "address", "type": "text", "title_bg": "Адрес", "title_en": "Address", "public": true},
  {"name": "area_m2", "type": "number", "title_bg": "Площ, м²", "title_en": "Area, m²", "public": true},
  {"name": "description", "type": "text", "title_bg": "Описание", "title_en": "Description", "public": true},
  {"name": "use", "type": "text", "title_bg": "Предназначение и ползване", "title_en": "Use", "public": true},
  {"name": "restrictions", "type": "text", "title_bg": "Ограничения на ползването", "title_en": "Restrictions on use", "public": true},
  {"name": "holder", "type": "person", "title_bg": "Управител / ползвател", "title_en": "Holder / manager", "public": true},
  {"name": "book_value", "type": "number", "title_bg": "Балансова стойност, лв.", "title_en": "Book value, BGN"},
  {"name": "status", "type": "text", "title_bg": "Състояние", "title_en": "Status", "public": true},
  {"name": "dossier", "type": "text", "title_bg": "Досие (бележки)", "title_en": "Dossier (notes)"}
]'),
('rentals', 'Договори за наем на общински имоти', 'Rental contracts of municipal property', false, true,
 'Договор №', 'Contract No.', 'Дата на договора', 'Contract date', '[
  {"name": "property", "type": "reference", "register": "municipal_property", "title_bg": "Имот (акт за общинска собственост)", "title_en": "Property (act of municipal ownership)", "required": true},
  {"name": "identifiers", "type": "cadastral_ids", "title_bg": "Наети обекти", "title_en": "Rented objects"},
  {"name": "tenant", "type": "person", "title_bg": "Наемател", "title_en": "Tenant", "required": true},
  {"name": "start_date", "type": "date", "title_bg": "Начало на наема", "title_en": "Start", "required": true},
  {"name": "end_date", "type": "date", "title_bg": "Край на наема", "title_en": "End", "required": true, "not_before": "start_date"},
  {"name": "rent_bgn", "type": "number", "title_bg": "Месечен наем, лв.", "title_en": "Monthly rent, BGN", "required": true},
  {"name": "purpose", "type": "text", "title_bg": "Предназначение", "title_en": "Purpose"},
  {"name": "status", "type": "enum", "title_bg": "Състояние", "title_en": "Status", "required": true,
   "values": ["действащ", "изтекъл", "прекратен"]}
]'),
('building_permits', 'Разрешения за строеж', 'Building permits', true, true,
 'Разрешение №', 'Permit No.', 'Дата на издаване', 'Date of issue', '[
  {"name": "issued_by", "type": "text", "title_bg": "Издадено от", "title_en": "Issued by", "public": true},
  {"name": "investors", "type": "persons", "title_bg": "Възложители", "title_en": "Investors", "required": true, "public": true},
  {"name": "identifiers", "type": "cadastral_ids", "title_bg": "Поземлени имоти и обекти", "title_en": "Parcels and objects", "required": true, "public": true},
  {"name": "upi", "type": "text", "title_bg": "УПИ", "title_en": "Regulated plot (УПИ)", "public": true},
  {"name": "quarter", "type": "text", "title_bg": "Квартал", "title_en": "Quarter", "public": true},
  {"name": "category", "type": "enum", "title_bg": "Категория на строежа", "title_en": "Construction category", "required": true, "public": true,
   "values": ["I", "II", "III", "IV", "V", "VI"]},
  {"name": "description", "type": "text", "title_bg": "Строеж", "title_en": "Construction", "required": true, "public": true},
  {"name": "design_ref", "type": "text", "title_bg": "Одобрен инвестиционен проект", "title_en": "Approved design"},
  {"name": "phase", "type": "enum", "title_bg": "Фаза на проекта", "title_en": "Design phase", "public": true,
   "values": ["идеен проект", "технически проект", "работен проект"]},
  {"name": "valid_until", "type": "date", "title_bg": "Валидно до", "title_en": "Valid until", "not_before": "entry_date", "public": true},
  {"name": "status", "type": "enum", "title_bg": "Състояние", "title_en": "Status", "required": true, "public": true,
   "values": ["издадено", "влязло в сила", "изтекло", "отменено", "завършено"]}
]'),
('trade_permits', 'Търговски разрешения и уведомления', 'Trade permits and notifications', true, true,
 'Рег. №', 'Reg. No.', 'Дата на вписване', 'Date registered', '[
  {"name": "kind", "type": "enum", "title_bg": "Вид", "title_en": "Kind", "required": true, "public": true,
   "values": ["уведомление", "разрешение", "временно разрешение"]},
  {"name": "trader", "type": "person", "title_bg": "Търговец", "title_en": "Trader", "required": true, "public": true},
  {"name": "identifiers", "type": "cadastral_ids", "title_bg": "Обект (идентификатор)", "title_en": "Premises (identifier)", "public": true},
  {"name": "site_name", "type": "text", "title_bg": "Име на обекта", "title_en": "Name of the premises", "public": true},
  {"name": "address", "type": "text", "title_bg": "Адрес", "title_en": "Address", "public": true},
  {"name": "activity", "type": "text", "title_bg": "Дейност", "title_en": "Activity", "required": true, "public": true},
  {"name": "working_hours", "type": "text", "title_bg": "Работно време", "title_en": "Opening hours", "public": true},
  {"name": "valid_until", "type": "date", "title_bg": "Валидно до", "title_en": "Valid until", "not_before": "entry_date", "public": true},
  {"name": "status", "type": "enum", "title_bg": "Състояние", "title_en": "Status", "required": true, "public": true,
   "values": ["действащо", "прекратено", "изтекло"]}
]'),
('taxi_permits', 'Разрешения за таксиметров превоз', 'Taxi permits', true, true,
 'Разрешение №', 'Permit No.', 'Дата на издаване', 'Date of issue', '[
  {"name": "carrier", "type": "person", "title_bg": "Превозвач", "title_en": "Carrier", "required": true, "public": true},
  {"name": "vehicle_reg", "type": "text", "title_bg": "Рег. № на автомобила", "title_en": "Vehicle registration", "required": true, "public": true},
  {"name": "vehicle_make", "type": "text", "title_bg": "Марка и модел", "title_en": "Make and model", "public": true},
  {"name": "valid_until", "type": "date", "title_bg": "Валидно до", "title_en": "Valid until", "required": true, "not_before": "entry_date", "public": true},
  {"name": "status", "type": "enum", "title_bg": "Състояние", "title_en": "Status", "required": true, "public": true,
   "values": ["действащо", "прекратено", "изтекло"]}
]'),
('condominiums', 'Регистър на етажната собственост', 'Condominiums', false, true,
 'Рег. №', 'Reg. No.', 'Дата на регистрация', 'Date registered', '[
  {"name": "identifiers", "type": "cadastral_ids", "title_bg": "Сграда", "title_en": "Building", "required": true, "public": true},
  {"name": "address", "type": "text", "title_bg": "Адрес", "title_en": "Address", "required": true, "public": true},
  {"name": "form", "type": "enum", "title_bg": "Форма на управление", "title_en": "Form of management", "required": true, "public": true,
   "values": ["общо събрание", "сдружение"]},
  {"name": "units_count", "type": "integer", "title_bg": "Брой самостоятелни обекти", "title_en": "Independent units", "public": true},
  {"name": "manager", "type": "person", "title_bg": "Управител / председател на УС", "title_en": "Manager / chair of the board", "public": true},
  {"name": "controller", "type": "person", "title_bg": "Председател на контролния съвет", "title_en": "Chair of the supervisory board"},
  {"name": "status", "type": "enum", "title_bg": "Състояние", "title_en": "Status", "public": true,
   "values": ["регистрирана", "заличена"]}
]'),
('categorised_sites', 'Категоризирани туристически обекти', 'Categorised tourist sites', true, true,
 'Удостоверение №', 'Certificate No.', 'Дата на категоризация', 'Date categorised', '[
  {"name": "holder", "type": "person", "title_bg": "Лице, извършващо дейността", "title_en": "Operator", "required": true, "public": true},
  {"name": "identifiers", "type": "cadastral_ids", "title_bg": "Обект (идентификатор)", "title_en": "Premises (identifier)", "public": true},
  {"name": "site_name", "type": "text", "title_bg": "Име на обекта", "title_en": "Name of the site", "required": true, "public": true},
  {"name": "site_kind", "type": "enum", "title_bg": "Вид на обекта", "title_en": "Kind of site", "required": true, "public": true,
   "values": ["място за настаняване", "заведение за хранене и развлечения"]},
  {"name": "category", "type": "enum", "title_bg": "Категория", "title_en": "Category", "required": true, "public": true,
   "values": ["една звезда", "две звезди", "три звезди", "четири звезди", "пет звезди"]},
  {"name": "capacity", "type": "integer", "title_bg": "Места", "title_en": "Capacity", "public": true},
  {"name": "address", "type": "text", "title_bg": "Адрес", "title_en": "Address", "public": true},
  {"name": "status", "type": "enum", "title_bg": "Състояние", "title_en": "Status", "required": true, "public": true,
   "values": ["категоризиран", "прекратена категория"]}
]');

ALTER TABLE register_types ENABLE TRIGGER audit_insert;
ALTER TABLE layer_types ENABLE TRIGGER audit_insert;
ALTER TABLE layers ENABLE TRIGGER audit_insert;
