-- Municipal property (АКСТЪР ОБЩИНСКИ ИМОТИ, seed item 5) and its rentals
-- (АКСТЪР НАЕМИ, item 6), on top of the register engine of 000009.
--
-- A property is an entry of the register municipal_property (its act of
-- municipal ownership, АОС). What happens to it afterwards is a list of
-- dated operations (property_operations): sale, right to build, partition,
-- annexation, exchange, write-off, termination of co-ownership,
-- restitution, contribution to a company's capital, holdings. Each
-- operation says which state it leaves the property in; the property's
-- current state is that of its last operation (property_state()), never
-- typed by hand.
--
-- Rental contracts are entries of the register rentals. rental_terms is a
-- table kept by a trigger from those entries, one row per contract, so that
-- an EXCLUDE constraint can refuse two live contracts on the same property
-- whose terms overlap, whichever way the entry was written (munigis, psql).

-- The state a property is left in, as a code; package registers/property
-- has the Bulgarian and English titles:
--   owned        still municipal property (right to build, annexation,
--                holding, a partition or co-ownership ending with a share kept)
--   contributed  contributed in kind to a company's capital (апорт): the
--                company owns it, the municipality holds shares instead
--   removed      no longer municipal (sold, exchanged, written off,
--                restituted): отписан от актовите книги
CREATE FUNCTION property_kind_states(p_kind text) RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE p_kind
        WHEN 'sale'                 THEN ARRAY['removed']
        WHEN 'right_to_build'       THEN ARRAY['owned']
        WHEN 'partition'            THEN ARRAY['owned', 'removed']
        WHEN 'annexation'           THEN ARRAY['owned']
        WHEN 'exchange'             THEN ARRAY['removed']
        WHEN 'write_off'            THEN ARRAY['removed']
        WHEN 'termination'          THEN ARRAY['removed', 'owned']
        WHEN 'restitution'          THEN ARRAY['removed']
        WHEN 'capital_contribution' THEN ARRAY['contributed']
        WHEN 'holding'              THEN ARRAY['owned']
    END
$$;

CREATE TABLE property_operations (
    id               bigserial PRIMARY KEY,
    -- The property: an entry of municipal_property (checked by the trigger).
    -- RESTRICT: a property with operations is never deleted with them.
    entry_id         bigint NOT NULL REFERENCES register_entries (id) ON DELETE RESTRICT,
    kind             text NOT NULL CHECK (kind IN ('sale', 'right_to_build', 'partition', 'annexation',
                         'exchange', 'write_off', 'termination', 'restitution', 'capital_contribution', 'holding')),
    op_date          date NOT NULL,
    -- The order (заповед) or contract (договор) it rests on.
    document_number  text NOT NULL CHECK (btrim(document_number) <> ''),
    document_date    date NOT NULL,
    -- [{"person_id": n, "role": "buyer"}, ...]; persons checked by the trigger.
    parties          jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(parties) = 'array'),
    description      text NOT NULL DEFAULT '',
    -- The share of the property the operation concerns (1/2 → 0.5) and the
    -- area, where they apply (a partition, a right to build on part of it).
    share            numeric(9, 8) CHECK (share > 0 AND share <= 1),
    area_m2          numeric(14, 2) CHECK (area_m2 > 0),
    -- The price, the value of the contribution or of the holding, in BGN.
    amount_bgn       numeric(16, 2) CHECK (amount_bgn >= 0),
    resulting_status text NOT NULL,
    version          integer NOT NULL DEFAULT 1,
    created_at       timestamptz NOT NULL DEFAULT date_trunc('second', now()),
    created_by       text NOT NULL DEFAULT munigis_actor(),
    updated_at       timestamptz NOT NULL DEFAULT date_trunc('second', now()),
    updated_by       text NOT NULL DEFAULT munigis_actor(),
    CONSTRAINT resulting_status_kind CHECK (resulting_status = ANY (property_kind_states(kind))),
    CONSTRAINT document_date_order CHECK (document_date <= op_date)
);
CREATE INDEX ON property_operations (entry_id, op_date, id);
CREATE INDEX ON property_operations (op_date);

-- Earlier versions of an operation (a corrected document number, say), like
-- feature_versions: the current row is the latest version.
CREATE TABLE property_operation_versions (
    operation_id bigint NOT NULL,
    version      integer NOT NULL,
    entry_id     bigint NOT NULL,
    row          jsonb NOT NULL,
    valid_from   timestamptz NOT NULL,
    created_by   text NOT NULL,
    valid_to     timestamptz NOT NULL,
    ended_by     text NOT NULL,
    ended_how    text NOT NULL CHECK (ended_how IN ('update', 'delete')),
    PRIMARY KEY (operation_id, version)
);
CREATE INDEX ON property_operation_versions (entry_id);

-- The current state of a property: the state its last operation (by date,
-- then by the order they were recorded) left it in; 'owned' with none.
CREATE FUNCTION property_state(p_entry bigint) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
    SELECT coalesce((SELECT resulting_status FROM property_operations
                     WHERE entry_id = p_entry ORDER BY op_date DESC, id DESC LIMIT 1), 'owned')
$$;

-- Stamps and checks an operation. The rules are the ones the Go store
-- checks first (with messages naming the field); here they also hold for
-- rows written with psql. MG02x codes: postgis.Translate shows the message.
CREATE FUNCTION property_operation_stamp() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    _e        register_entries;
    _act_date date;
    _gone     property_operations;
    _missing  bigint;
BEGIN
    SELECT * INTO _e FROM register_entries WHERE id = NEW.entry_id;
    IF NOT FOUND OR _e.register <> 'municipal_property' THEN
        RAISE EXCEPTION USING ERRCODE = 'MG020',
            MESSAGE = format('entry_id: %s is not a municipal property entry', NEW.entry_id);
    END IF;
    _act_date := coalesce(_e.entry_date, (_e.data->>'act_date')::date);
    IF _act_date IS NOT NULL AND NEW.op_date < _act_date THEN
        RAISE EXCEPTION USING ERRCODE = 'MG020',
            MESSAGE = format('op_date: %s is before the act of municipal ownership № %s of %s',
                             NEW.op_date, _e.number, _act_date);
    END IF;
    -- "Today" in the municipality's calendar, as the Go store decides it,
    -- whatever the session's time zone.
    IF NEW.op_date > (now() AT TIME ZONE 'Europe/Sofia')::date THEN
        RAISE EXCEPTION USING ERRCODE = 'MG020',
            MESSAGE = format('op_date: %s is in the future', NEW.op_date);
    END IF;
    IF TG_OP = 'INSERT' THEN
        SELECT * INTO _gone FROM property_operations
        WHERE entry_id = NEW.entry_id AND resulting_status = 'removed' ORDER BY op_date LIMIT 1;
        IF FOUND THEN
            RAISE EXCEPTION USING ERRCODE = 'MG020',
                MESSAGE = format('entry_id: property № %s left municipal ownership on %s (%s, document %s); no further operations can be recorded',
                                 _e.number, _gone.op_date, _gone.kind, _gone.document_number);
        END IF;
    END IF;
    SELECT (p->>'person_id')::bigint INTO _missing
    FROM jsonb_array_elements(NEW.parties) p
    WHERE NOT EXISTS (SELECT 1 FROM persons WHERE id = (p->>'person_id')::bigint)
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION USING ERRCODE = 'MG020',
            MESSAGE = format('parties: person %s does not exist', coalesce(_missing::text, '(none given)'));
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

CREATE TRIGGER stamp BEFORE INSERT OR UPDATE ON property_operations
    FOR EACH ROW EXECUTE FUNCTION property_operation_stamp();

-- The state as people read it, for the entry's status (a public field of
-- municipal_property, shown on the register's map layer and page). Go:
-- State.TitleBG.
CREATE FUNCTION property_state_title(p_state text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE p_state
        WHEN 'owned' THEN 'общинска собственост'
        WHEN 'contributed' THEN 'апортиран'
        WHEN 'removed' THEN 'отписан'
    END
$$;

-- After operations change, the property entry's status follows the derived
-- state, so the register, its map layer and its public page say "отписан"
-- as soon as a sale is recorded. It is an ordinary change of the entry: a
-- new version in register_entry_versions and a row in the audit trail, by
-- the same actor. The state itself is never typed: property_state()
-- derives it from the operations. One function per event, because each
-- event has its own transition tables.
CREATE FUNCTION property_status_sync_new() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE register_entries _e SET status = property_state_title(property_state(_e.id))
    WHERE _e.id IN (SELECT _n.entry_id FROM new_rows _n)
      AND _e.status IS DISTINCT FROM property_state_title(property_state(_e.id));
    RETURN NULL;
END $$;

CREATE FUNCTION property_status_sync_old() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE register_entries _e SET status = property_state_title(property_state(_e.id))
    WHERE _e.id IN (SELECT _o.entry_id FROM old_rows _o)
      AND _e.status IS DISTINCT FROM property_state_title(property_state(_e.id));
    RETURN NULL;
END $$;

CREATE TRIGGER status_insert AFTER INSERT ON property_operations REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION property_status_sync_new();
CREATE TRIGGER status_update_new AFTER UPDATE ON property_operations REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION property_status_sync_new();
CREATE TRIGGER status_update_old AFTER UPDATE ON property_operations REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION property_status_sync_old();
CREATE TRIGGER status_delete AFTER DELETE ON property_operations REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION property_status_sync_old();

CREATE FUNCTION property_operation_history() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO property_operation_versions
        (operation_id, version, entry_id, row, valid_from, created_by, valid_to, ended_by, ended_how)
    VALUES (OLD.id, OLD.version, OLD.entry_id, to_jsonb(OLD), OLD.updated_at, OLD.updated_by,
            date_trunc('second', now()), munigis_actor(), lower(TG_OP));
    RETURN NULL;
END $$;

CREATE TRIGGER history AFTER UPDATE OR DELETE ON property_operations
    FOR EACH ROW EXECUTE FUNCTION property_operation_history();
CREATE FUNCTION property_forbid_truncate() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = 'MG002',
        MESSAGE = format('%s cannot be truncated: it would lose the history of municipal property; use DELETE', TG_TABLE_NAME);
END $$;
CREATE TRIGGER no_truncate BEFORE TRUNCATE ON property_operations
    FOR EACH STATEMENT EXECUTE FUNCTION property_forbid_truncate();

-- The audit trail, per statement with transition tables like the feature
-- audit of 000004/000007 (its own names start with "_"): one row per
-- operation with the values before and after, for up to 100 rows a
-- statement; a bigger statement (the demo load) records the ids and
-- versions, whose values are in the table and its history.
CREATE FUNCTION property_operation_audit() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    _copy_limit constant int := 100;
    _n       bigint;
    _action  text := 'property_operation.' || lower(TG_OP);
    _address text := nullif(current_setting('munigis.address', true), '');
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
        INSERT INTO audit_log (action, object, before, after, address)
        SELECT _action, 'property_operations',
               CASE WHEN TG_OP <> 'INSERT' THEN jsonb_build_object('count', _n,
                   'values_in', 'property_operation_versions') END,
               CASE WHEN TG_OP <> 'DELETE' THEN (SELECT jsonb_build_object('count', _n,
                   'ids', jsonb_agg(_r.id ORDER BY _r.id), 'versions', jsonb_agg(_r.version ORDER BY _r.id),
                   'values_in', 'property_operations') FROM new_rows _r) END,
               _address;
        RETURN NULL;
    END IF;
    IF TG_OP = 'INSERT' THEN
        INSERT INTO audit_log (action, object, after, address)
        SELECT _action, 'property_operation:' || _r.id, to_jsonb(_r), _address
        FROM new_rows _r ORDER BY _r.id;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO audit_log (action, object, before, address)
        SELECT _action, 'property_operation:' || _r.id, to_jsonb(_r), _address
        FROM old_rows _r ORDER BY _r.id;
    ELSE
        INSERT INTO audit_log (action, object, before, after, address)
        SELECT _action, 'property_operation:' || _nr.id, to_jsonb(_o), to_jsonb(_nr), _address
        FROM new_rows _nr JOIN old_rows _o ON _o.id = _nr.id ORDER BY _nr.id;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER audit_insert AFTER INSERT ON property_operations REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION property_operation_audit();
CREATE TRIGGER audit_update AFTER UPDATE ON property_operations REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION property_operation_audit();
CREATE TRIGGER audit_delete AFTER DELETE ON property_operations REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION property_operation_audit();

-- Rental terms: one row per rental contract, derived from its entry (so not
-- versioned or audited itself: the entry is, in register_entry_versions and
-- the audit trail). "live" is false for a contract that was terminated or
-- cancelled: it no longer blocks the property.
CREATE TABLE rental_terms (
    entry_id    bigint PRIMARY KEY REFERENCES register_entries (id) ON DELETE CASCADE,
    property_id bigint NOT NULL REFERENCES register_entries (id) ON DELETE RESTRICT,
    number      text NOT NULL,
    -- [start, end], both days included; an open end is an unlimited term.
    term        daterange NOT NULL,
    live        boolean NOT NULL,
    CONSTRAINT rental_terms_overlap EXCLUDE USING gist (property_id WITH =, term WITH &&) WHERE (live)
);
CREATE INDEX ON rental_terms (upper(term)) WHERE live;

-- A terminated contract (status "прекратен", 000009's rentals type) no
-- longer holds the property; an expired one ("изтекъл") still covers its
-- own past term, which no later contract can overlap anyway.
CREATE FUNCTION rental_status_live(p_status text) RETURNS boolean
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT coalesce(p_status, '') <> 'прекратен'
$$;

-- Keeps rental_terms from the rentals entries and refuses an overlap with a
-- message naming the other contract (the EXCLUDE constraint is the last
-- line, for rows written around this trigger).
CREATE FUNCTION rental_terms_sync() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    _prop    bigint;
    _start   date;
    _end     date;
    _term    daterange;
    _live    boolean;
    _other   rental_terms;
BEGIN
    IF NEW.register <> 'rentals' THEN
        RETURN NULL;
    END IF;
    -- The reference field holds the property entry's id.
    _prop := CASE WHEN NEW.data->>'property' ~ '^[0-9]{1,18}$' THEN (NEW.data->>'property')::bigint END;
    _start := (NEW.data->>'start_date')::date;
    _end := (NEW.data->>'end_date')::date;
    IF _prop IS NULL OR _start IS NULL THEN
        -- Not tied to a property (yet): nothing to guard.
        DELETE FROM rental_terms WHERE entry_id = NEW.id;
        RETURN NULL;
    END IF;
    IF NOT EXISTS (SELECT 1 FROM register_entries WHERE id = _prop AND register = 'municipal_property') THEN
        RAISE EXCEPTION USING ERRCODE = 'MG021',
            MESSAGE = format('property: %s is not a municipal property entry', _prop);
    END IF;
    IF _end IS NOT NULL AND _end < _start THEN
        RAISE EXCEPTION USING ERRCODE = 'MG021',
            MESSAGE = format('end_date: %s is before start_date %s', _end, _start);
    END IF;
    _term := daterange(_start, _end, '[]');
    _live := rental_status_live(NEW.status);
    IF _live THEN
        -- Two clerks writing contracts on the same property at once: the
        -- second waits here for the first to finish, then its check below
        -- (a new snapshot per statement) sees the first contract and says
        -- which one it is, instead of the constraint's bare error.
        PERFORM pg_advisory_xact_lock(78010010, (_prop % 2147483647)::int);
        SELECT * INTO _other FROM rental_terms
        WHERE property_id = _prop AND live AND term && _term AND entry_id <> NEW.id
        ORDER BY lower(term) LIMIT 1;
        IF FOUND THEN
            RAISE EXCEPTION USING ERRCODE = 'MG021',
                MESSAGE = format('start_date: the term %s – %s overlaps rental contract № %s (%s – %s) on the same property',
                                 _start, coalesce(_end::text, '…'), _other.number, lower(_other.term),
                                 coalesce((upper(_other.term) - 1)::text, '…')),
                HINT = 'end or terminate the other contract first, or change the dates';
        END IF;
    END IF;
    INSERT INTO rental_terms (entry_id, property_id, number, term, live)
    VALUES (NEW.id, _prop, NEW.number, _term, _live)
    ON CONFLICT (entry_id) DO UPDATE
        SET property_id = EXCLUDED.property_id, number = EXCLUDED.number,
            term = EXCLUDED.term, live = EXCLUDED.live;
    RETURN NULL;
END $$;

CREATE TRIGGER rental_terms AFTER INSERT OR UPDATE ON register_entries
    FOR EACH ROW WHEN (NEW.register = 'rentals') EXECUTE FUNCTION rental_terms_sync();

-- The history of operations is appended by the trigger only; the
-- application never rewrites it (like register_entry_versions, 000009).
CREATE TRIGGER no_truncate BEFORE TRUNCATE ON property_operation_versions
    FOR EACH STATEMENT EXECUTE FUNCTION property_forbid_truncate();
REVOKE UPDATE, DELETE ON property_operation_versions FROM munigis_app;
