-- The layer catalog and the feature store.
--
-- Every local layer is a table features.<layer name> whose columns come from
-- its layer type's attribute schema, so QGIS or SQL can work on it directly.
-- Stamping, validation and history are triggers, so an edit made straight in
-- PostGIS keeps its history just like one made through munigis.

CREATE SCHEMA features;

-- ЕКАТТЕ check digit (mod 11, weights 1..4, then 3..6, 10 → 0). The digit
-- depends only on the first four digits, so the 10,000 answers are computed
-- once, here, into a constant byte string (the ASCII digit for each
-- prefix): a CHECK constraint then costs one get_byte instead of a PL/pgSQL
-- call per row, which matters when importing a million parcels. (bytea, not
-- text: substr on a long UTF-8 text scans from its start.)
DO $$
DECLARE
    digits text;
BEGIN
    SELECT string_agg((CASE
               WHEN (d1 + 2*d2 + 3*d3 + 4*d4) % 11 <> 10 THEN (d1 + 2*d2 + 3*d3 + 4*d4) % 11
               WHEN (3*d1 + 4*d2 + 5*d3 + 6*d4) % 11 <> 10 THEN (3*d1 + 4*d2 + 5*d3 + 6*d4) % 11
               ELSE 0 END)::text, '' ORDER BY n)
    INTO digits
    FROM (SELECT n, n / 1000 AS d1, n / 100 % 10 AS d2, n / 10 % 10 AS d3, n % 10 AS d4
          FROM generate_series(0, 9999) n) p;
    EXECUTE format('CREATE FUNCTION ekatte_check_digits() RETURNS bytea
        LANGUAGE sql IMMUTABLE PARALLEL SAFE AS %L',
        'SELECT ' || quote_literal(convert_to(digits, 'UTF8')::text) || '::bytea');
END $$;

-- These are single-expression SQL functions, not STRICT, so that PostgreSQL
-- inlines them into CHECK constraints and queries.
CREATE FUNCTION ekatte_valid(code text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN code IS NULL THEN NULL
        WHEN code ~ '^[0-9]{5}$' THEN get_byte(ekatte_check_digits(), left(code, 4)::int) = ascii(right(code, 1))
        ELSE false
    END
$$;

-- A cadastral identifier ЕКАТТЕ.район.имот[.сграда[.обект]] (Наредба
-- РД-02-20-3/2016); the same rule as spatial.Parse in Go.
CREATE FUNCTION cadastral_id_valid(id text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE
        WHEN id IS NULL THEN NULL
        WHEN id ~ '^[0-9]{5}(\.[1-9][0-9]*){2,4}$'
            THEN get_byte(ekatte_check_digits(), left(id, 4)::int) = ascii(substr(id, 5, 1))
        ELSE false
    END
$$;

-- The number of fields: 3 parcel, 4 building, 5 unit.
CREATE FUNCTION cadastral_id_level(id text) RETURNS int
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT array_length(string_to_array(id, '.'), 1)
$$;

-- Who is acting: the munigis user set per transaction by the application
-- (SET LOCAL munigis.actor), else the database role, marked "db:".
CREATE FUNCTION munigis_actor() RETURNS text
LANGUAGE sql STABLE AS $$
    SELECT coalesce(nullif(current_setting('munigis.actor', true), ''), 'db:' || session_user)
$$;

CREATE TABLE layer_types (
    name            text PRIMARY KEY CHECK (name ~ '^[a-z][a-z0-9_]{0,47}$'),
    title_bg        text NOT NULL CHECK (title_bg <> ''),
    title_en        text NOT NULL CHECK (title_en <> ''),
    geometry_type   text NOT NULL CHECK (geometry_type IN
                        ('Point', 'MultiPoint', 'LineString', 'MultiLineString', 'Polygon', 'MultiPolygon')),
    -- [{"name", "type": text|integer|number|date|boolean|cadastral_id|enum,
    --   "title_bg", "title_en", "required", "unique", "internal", "values"}]
    attributes      jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(attributes) = 'array'),
    -- Set for cadastral object types: the level their "identifier" must have.
    cadastral_level smallint CHECK (cadastral_level BETWEEN 3 AND 5),
    built_in        boolean NOT NULL DEFAULT false,
    default_style   text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL DEFAULT date_trunc('second', now()),
    created_by      text NOT NULL DEFAULT munigis_actor()
);

CREATE TABLE layers (
    name          text PRIMARY KEY CHECK (name ~ '^[a-z][a-z0-9_]{0,47}$'),
    layer_type    text NOT NULL REFERENCES layer_types (name),
    title_bg      text NOT NULL CHECK (title_bg <> ''),
    title_en      text NOT NULL CHECK (title_en <> ''),
    abstract_bg   text NOT NULL DEFAULT '',
    abstract_en   text NOT NULL DEFAULT '',
    visibility    text NOT NULL DEFAULT 'internal' CHECK (visibility IN ('public', 'internal')),
    min_zoom      smallint NOT NULL DEFAULT 0 CHECK (min_zoom BETWEEN 0 AND 24),
    max_zoom      smallint NOT NULL DEFAULT 22 CHECK (max_zoom BETWEEN 0 AND 24),
    style         text NOT NULL DEFAULT '',
    source        text NOT NULL DEFAULT 'local' CHECK (source IN ('local', 'wms', 'wfs')),
    source_url    text,
    source_layer  text,
    sort_order    integer NOT NULL DEFAULT 100,
    created_at    timestamptz NOT NULL DEFAULT date_trunc('second', now()),
    created_by    text NOT NULL DEFAULT munigis_actor(),
    updated_at    timestamptz NOT NULL DEFAULT date_trunc('second', now()),
    updated_by    text NOT NULL DEFAULT munigis_actor(),
    CHECK (min_zoom <= max_zoom),
    CHECK ((source = 'local') = (source_url IS NULL))
);

-- Earlier versions of every feature of every layer: written by a trigger
-- when a feature is changed or deleted, so the current row is the latest
-- version and this table holds everything before it.
CREATE TABLE feature_versions (
    layer       text NOT NULL,
    feature_id  bigint NOT NULL,
    version     integer NOT NULL,
    geom        geometry(Geometry, 7801) NOT NULL,
    attributes  jsonb NOT NULL,
    valid_from  timestamptz NOT NULL,
    created_by  text NOT NULL,
    valid_to    timestamptz NOT NULL,
    ended_by    text NOT NULL,
    ended_how   text NOT NULL CHECK (ended_how IN ('update', 'delete')),
    PRIMARY KEY (layer, feature_id, version)
);

-- Columns every feature table has; attribute names must not clash with them.
CREATE FUNCTION munigis_reserved_columns() RETURNS text[]
LANGUAGE sql IMMUTABLE AS $$
    SELECT ARRAY['id', 'geom', 'geom_3857', 'version', 'created_at', 'created_by',
                 'updated_at', 'updated_by']
$$;

CREATE FUNCTION munigis_feature_stamp() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    v valid_detail;
BEGIN
    IF TG_OP = 'INSERT' OR NEW.geom IS DISTINCT FROM OLD.geom THEN
        IF ST_IsEmpty(NEW.geom) THEN
            RAISE EXCEPTION USING ERRCODE = 'MG001', MESSAGE = 'the geometry is empty';
        END IF;
        -- ST_IsValid is the cheap test (it runs once per imported row);
        -- ST_IsValidDetail, for the reason and place, only when it fails.
        IF NOT ST_IsValid(NEW.geom) THEN
            v := ST_IsValidDetail(NEW.geom);
            RAISE EXCEPTION USING ERRCODE = 'MG001',
                MESSAGE = format('invalid geometry: %s at %s', v.reason, ST_AsText(v.location)),
                HINT = 'correct the geometry, or ask for it to be repaired (import --make-valid)';
        END IF;
    END IF;
    IF TG_OP = 'INSERT' THEN
        NEW.version := 1;
        NEW.created_at := date_trunc('second', now());
        NEW.created_by := munigis_actor();
    ELSE
        NEW.id := OLD.id;
        NEW.version := OLD.version + 1;
        NEW.created_at := OLD.created_at;
        NEW.created_by := OLD.created_by;
    END IF;
    NEW.updated_at := date_trunc('second', now());
    NEW.updated_by := munigis_actor();
    RETURN NEW;
END $$;

-- TRUNCATE would bypass the row triggers and lose history without a trace.
CREATE FUNCTION munigis_forbid_truncate() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = 'MG002',
        MESSAGE = format('layer %s cannot be truncated: it would lose feature history; use DELETE', TG_TABLE_NAME);
END $$;

-- Creates features.<layer> from the layer's type. Used by this migration for
-- the built-in layers and by munigis for layers a municipality defines.
CREATE FUNCTION munigis_create_layer_table(p_layer text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    l      layers;
    lt     layer_types;
    a      jsonb;
    aname  text;
    atype  text;
    ctype  text;
    cols   text := '';
    uniq   text[] := '{}';
    u      text;
    pairs  text[] := '{}';
    attrs  text;
BEGIN
    SELECT * INTO STRICT l FROM layers WHERE name = p_layer;
    IF l.source <> 'local' THEN
        RETURN;
    END IF;
    SELECT * INTO STRICT lt FROM layer_types WHERE name = l.layer_type;
    FOR a IN SELECT * FROM jsonb_array_elements(lt.attributes) LOOP
        aname := a->>'name';
        atype := a->>'type';
        IF aname IS NULL OR aname !~ '^[a-z][a-z0-9_]{0,47}$' THEN
            RAISE EXCEPTION USING ERRCODE = 'MG003',
                MESSAGE = format('attribute name %L must be lower-case latin letters, digits and _', aname);
        END IF;
        IF aname = ANY (munigis_reserved_columns()) THEN
            RAISE EXCEPTION USING ERRCODE = 'MG003',
                MESSAGE = format('attribute name %L is reserved', aname);
        END IF;
        ctype := CASE atype
            WHEN 'text' THEN 'text'
            WHEN 'integer' THEN 'bigint'
            WHEN 'number' THEN 'double precision'
            WHEN 'date' THEN 'date'
            WHEN 'boolean' THEN 'boolean'
            WHEN 'cadastral_id' THEN 'text'
            WHEN 'enum' THEN 'text'
        END;
        IF ctype IS NULL THEN
            RAISE EXCEPTION USING ERRCODE = 'MG003',
                MESSAGE = format('attribute %L has unknown type %L', aname, atype);
        END IF;
        cols := cols || format(', %I %s', aname, ctype);
        IF coalesce((a->>'required')::boolean, false) THEN
            cols := cols || ' NOT NULL';
        END IF;
        IF atype = 'cadastral_id' THEN
            -- Constraint names end in _cadastral_id, _level, _enum: munigis
            -- turns a violation into a message by that suffix.
            cols := cols || format(' CONSTRAINT %I CHECK (cadastral_id_valid(%I))', aname || '_cadastral_id', aname);
            IF aname = 'identifier' AND lt.cadastral_level IS NOT NULL THEN
                -- A regular expression, not cadastral_id_level(): cheaper per row.
                cols := cols || format(' CONSTRAINT %I CHECK (%I ~ %L)',
                    aname || '_level', aname, format('^[^.]+(\.[^.]+){%s}$', lt.cadastral_level - 1));
            END IF;
        END IF;
        IF atype = 'enum' THEN
            cols := cols || format(' CONSTRAINT %I CHECK (%I = ANY (%L::text[]))', aname || '_enum', aname,
                ARRAY(SELECT jsonb_array_elements_text(a->'values')));
        END IF;
        pairs := pairs || format('%L, OLD.%I', aname, aname);
        IF coalesce((a->>'unique')::boolean, false) THEN
            uniq := uniq || CASE WHEN ctype = 'text'
                THEN format('%I text_pattern_ops', aname) ELSE format('%I', aname) END;
        END IF;
    END LOOP;

    EXECUTE format(
        'CREATE TABLE features.%I (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            geom geometry(%s, 7801) NOT NULL,
            geom_3857 geometry(%s, 3857) GENERATED ALWAYS AS (ST_Transform(geom, 3857)) STORED
            %s,
            version integer NOT NULL DEFAULT 1,
            created_at timestamptz NOT NULL DEFAULT date_trunc(''second'', now()),
            created_by text NOT NULL DEFAULT munigis_actor(),
            updated_at timestamptz NOT NULL DEFAULT date_trunc(''second'', now()),
            updated_by text NOT NULL DEFAULT munigis_actor())',
        l.name, lt.geometry_type, lt.geometry_type, cols);
    EXECUTE format('CREATE INDEX ON features.%I USING gist (geom)', l.name);
    EXECUTE format('CREATE INDEX ON features.%I USING gist (geom_3857)', l.name);
    FOREACH u IN ARRAY uniq LOOP
        -- text_pattern_ops serves equality and prefix searches (children of
        -- a cadastral identifier: LIKE 'id.%').
        EXECUTE format('CREATE UNIQUE INDEX ON features.%I (%s)', l.name, u);
    END LOOP;
    EXECUTE format('CREATE TRIGGER stamp BEFORE INSERT OR UPDATE ON features.%I
        FOR EACH ROW EXECUTE FUNCTION munigis_feature_stamp()', l.name);
    -- The history function is written per layer, naming its attributes:
    -- the generic to_jsonb(OLD) would also turn both geometries into
    -- GeoJSON, which made deleting or updating many features 20 times
    -- slower. jsonb_build_object takes at most 100 arguments, hence the
    -- chunks of 40 pairs.
    SELECT coalesce(string_agg(format('jsonb_build_object(%s)', array_to_string(pairs[i:i + 39], ', ')), ' || ' ORDER BY i),
                    '''{}''::jsonb')
    INTO attrs
    FROM generate_series(1, coalesce(array_length(pairs, 1), 0), 40) i;
    EXECUTE format($f$
        CREATE FUNCTION features.%I() RETURNS trigger LANGUAGE plpgsql AS $body$
        BEGIN
            INSERT INTO feature_versions
                (layer, feature_id, version, geom, attributes, valid_from, created_by, valid_to, ended_by, ended_how)
            VALUES
                (%L, OLD.id, OLD.version, OLD.geom, %s,
                 OLD.updated_at, OLD.updated_by, date_trunc('second', now()), munigis_actor(), lower(TG_OP));
            RETURN NULL;
        END $body$
    $f$, l.name || '__history', l.name, attrs);
    EXECUTE format('CREATE TRIGGER history AFTER UPDATE OR DELETE ON features.%I
        FOR EACH ROW EXECUTE FUNCTION features.%I()', l.name, l.name || '__history');
    EXECUTE format('CREATE TRIGGER no_truncate BEFORE TRUNCATE ON features.%I
        FOR EACH STATEMENT EXECUTE FUNCTION munigis_forbid_truncate()', l.name);
END $$;
