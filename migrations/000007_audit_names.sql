-- The feature audit trigger of 000004, with every name of its own (variables,
-- table aliases, output columns) starting with an underscore. A layer
-- attribute can never start with one (000002 checks ^[a-z]), so no
-- attribute can collide with them any more: an attribute called n or r made
-- every insert into its layer fail with 'column reference "n" is ambiguous'.
CREATE OR REPLACE FUNCTION munigis_feature_audit() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    _copy_limit constant int := 100;
    _chunk      constant int := 10000;
    _n          bigint;
    _action   text := 'feature.' || lower(TG_OP);
    _layer    text := TG_TABLE_NAME;
BEGIN
    IF TG_OP = 'INSERT' THEN
        SELECT count(*) INTO _n FROM new_rows;
        IF _n = 0 THEN RETURN NULL; END IF;
        INSERT INTO audit_log (action, object, after, address)
        SELECT _action,
               CASE WHEN _n = 1 THEN format('layer:%s/%s', _layer, min(id)) ELSE 'layer:' || _layer END,
               jsonb_build_object('layer', _layer, 'count', count(*), 'ids', jsonb_agg(id ORDER BY id))
                 || CASE WHEN _n <= _copy_limit
                         THEN jsonb_build_object('features', jsonb_agg(_v ORDER BY id))
                         ELSE jsonb_build_object('versions', jsonb_agg(version ORDER BY id),
                                                 'values_in', 'features.' || _layer) END,
               nullif(current_setting('munigis.address', true), '')
        FROM (SELECT id, version, (row_number() OVER (ORDER BY id) - 1) / _chunk AS _c,
                     CASE WHEN _n <= _copy_limit THEN to_jsonb(_r) - 'geom_3857' END AS _v
              FROM new_rows _r) _s
        GROUP BY _c ORDER BY _c;
    ELSIF TG_OP = 'DELETE' THEN
        SELECT count(*) INTO _n FROM old_rows;
        IF _n = 0 THEN RETURN NULL; END IF;
        INSERT INTO audit_log (action, object, before, address)
        SELECT _action,
               CASE WHEN _n = 1 THEN format('layer:%s/%s', _layer, min(id)) ELSE 'layer:' || _layer END,
               jsonb_build_object('layer', _layer, 'count', count(*), 'ids', jsonb_agg(id ORDER BY id))
                 || CASE WHEN _n <= _copy_limit
                         THEN jsonb_build_object('features', jsonb_agg(_v ORDER BY id))
                         ELSE jsonb_build_object('versions', jsonb_agg(version ORDER BY id),
                                                 'values_in', 'feature_versions') END,
               nullif(current_setting('munigis.address', true), '')
        FROM (SELECT id, version, (row_number() OVER (ORDER BY id) - 1) / _chunk AS _c,
                     CASE WHEN _n <= _copy_limit THEN to_jsonb(_r) - 'geom_3857' END AS _v
              FROM old_rows _r) _s
        GROUP BY _c ORDER BY _c;
    ELSE
        SELECT count(*) INTO _n FROM new_rows;
        IF _n = 0 THEN RETURN NULL; END IF;
        INSERT INTO audit_log (action, object, before, after, address)
        SELECT _action,
               CASE WHEN _n = 1 THEN format('layer:%s/%s', _layer, min(id)) ELSE 'layer:' || _layer END,
               jsonb_build_object('layer', _layer, 'count', count(*), 'ids', jsonb_agg(id ORDER BY id))
                 || CASE WHEN _n <= _copy_limit
                         THEN jsonb_build_object('features', jsonb_agg(_ov ORDER BY id))
                         ELSE jsonb_build_object('versions', jsonb_agg(_oversion ORDER BY id),
                                                 'values_in', 'feature_versions') END,
               jsonb_build_object('layer', _layer, 'count', count(*), 'ids', jsonb_agg(id ORDER BY id))
                 || CASE WHEN _n <= _copy_limit
                         THEN jsonb_build_object('features', jsonb_agg(_nv ORDER BY id))
                         ELSE jsonb_build_object('versions', jsonb_agg(_nversion ORDER BY id),
                                                 'values_in', 'features.' || _layer) END,
               nullif(current_setting('munigis.address', true), '')
        FROM (SELECT _nr.id, _o.version AS _oversion, _nr.version AS _nversion,
                     (row_number() OVER (ORDER BY _nr.id) - 1) / _chunk AS _c,
                     CASE WHEN _n <= _copy_limit THEN to_jsonb(_o) - 'geom_3857' END AS _ov,
                     CASE WHEN _n <= _copy_limit THEN to_jsonb(_nr) - 'geom_3857' END AS _nv
              FROM new_rows _nr JOIN old_rows _o ON _o.id = _nr.id) _s
        GROUP BY _c ORDER BY _c;
    END IF;
    RETURN NULL;
END $$;