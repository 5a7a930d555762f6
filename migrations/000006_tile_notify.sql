-- Tile cache invalidation driven by the database. Every statement that
-- inserts, changes or deletes features announces, at commit, the layer and
-- the EPSG:3857 extent of the rows it touched (old and new geometries) on
-- the channel munigis_tiles:
--
--   {"layer": "<name>", "bbox": [minx, miny, maxx, maxy]}
--
-- and every change to the catalog (layers, layer_types) announces
-- {"all": true}. Every running munigis process LISTENs and drops exactly the
-- cached tiles that cover the extent (package tiles). Edits made with QGIS,
-- psql, `munigis import` or another munigis node are announced the same way.
-- NOTIFY is delivered only when the transaction commits, and not at all when
-- it rolls back; a statement that touched no row announces nothing.
--
-- The triggers are statement-level with transition tables, like the audit
-- triggers of 000004: PostgreSQL fills one transition table per event and
-- shares it between the triggers, so this costs one ST_Extent over rows that
-- are captured anyway.
CREATE FUNCTION munigis_feature_tiles_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    b box2d;
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT ST_Extent(geom_3857) INTO b FROM new_rows;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT ST_Extent(geom_3857) INTO b FROM old_rows;
    ELSE
        SELECT ST_Extent(g) INTO b
        FROM (SELECT geom_3857 AS g FROM old_rows UNION ALL SELECT geom_3857 FROM new_rows) s;
    END IF;
    IF b IS NULL THEN
        RETURN NULL;
    END IF;
    PERFORM pg_notify('munigis_tiles', json_build_object('layer', TG_TABLE_NAME,
        'bbox', json_build_array(ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b)))::text);
    RETURN NULL;
END $$;

-- The size of a geometry for tile generalisation: the larger side of its
-- bounding box, in the geometry's units (metres for geom_3857). Below a
-- layer's detail zoom a tile keeps only features at least one pixel in
-- size, the biggest first (package tiles); a btree index on this
-- expression lets a low-zoom tile over a million parcels read only the few
-- big ones instead of scanning them all.
CREATE FUNCTION munigis_geom_size(g geometry) RETURNS double precision
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT greatest(ST_XMax(g) - ST_XMin(g), ST_YMax(g) - ST_YMin(g))
$$;

-- Adds the three notify triggers to features.<layer>, and the size index
-- for line and polygon layers (idempotent).
CREATE FUNCTION munigis_tiles_layer_table(p_layer text) RETURNS void
LANGUAGE plpgsql SET search_path = public, pg_temp AS $$
BEGIN
    IF to_regclass(format('features.%I', p_layer)) IS NULL
       OR EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = 'tiles_insert'
                  AND tgrelid = format('features.%I', p_layer)::regclass) THEN
        RETURN;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM layers l JOIN layer_types t ON t.name = l.layer_type
                   WHERE l.name = p_layer AND t.geometry_type LIKE '%Point') THEN
        EXECUTE format('CREATE INDEX ON features.%I (public.munigis_geom_size(geom_3857))', p_layer);
    END IF;
    EXECUTE format('
        CREATE TRIGGER tiles_insert AFTER INSERT ON features.%1$I REFERENCING NEW TABLE AS new_rows
            FOR EACH STATEMENT EXECUTE FUNCTION munigis_feature_tiles_notify();
        CREATE TRIGGER tiles_update AFTER UPDATE ON features.%1$I REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
            FOR EACH STATEMENT EXECUTE FUNCTION munigis_feature_tiles_notify();
        CREATE TRIGGER tiles_delete AFTER DELETE ON features.%1$I REFERENCING OLD TABLE AS old_rows
            FOR EACH STATEMENT EXECUTE FUNCTION munigis_feature_tiles_notify();', p_layer);
END $$;
REVOKE EXECUTE ON FUNCTION munigis_tiles_layer_table(text) FROM PUBLIC;

-- munigis_create_layer_table (000004's wrapper) now also adds the notify
-- triggers; wrapped again the same way, keeping SECURITY DEFINER so the
-- application role (munigis_app) creates layers whose tables and triggers
-- it cannot drop. The wrapped version is no longer callable by the
-- application, so no layer table is made without its triggers.
ALTER FUNCTION munigis_create_layer_table(text) RENAME TO munigis_create_layer_table_v2;
REVOKE EXECUTE ON FUNCTION munigis_create_layer_table_v2(text) FROM PUBLIC;

CREATE FUNCTION munigis_create_layer_table(p_layer text) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    PERFORM munigis_create_layer_table_v2(p_layer);
    PERFORM munigis_tiles_layer_table(p_layer);
END $$;

SELECT munigis_tiles_layer_table(name) FROM layers ORDER BY name;

-- A catalog change (visibility, zoom range, attributes, a new or removed
-- layer) may change any tile: drop them all.
CREATE FUNCTION munigis_catalog_tiles_notify() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('munigis_tiles', '{"all": true}');
    RETURN NULL;
END $$;

CREATE TRIGGER tiles_notify AFTER INSERT OR UPDATE OR DELETE ON layers
    FOR EACH STATEMENT EXECUTE FUNCTION munigis_catalog_tiles_notify();
CREATE TRIGGER tiles_notify AFTER INSERT OR UPDATE OR DELETE ON layer_types
    FOR EACH STATEMENT EXECUTE FUNCTION munigis_catalog_tiles_notify();
