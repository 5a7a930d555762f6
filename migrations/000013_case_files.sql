-- Case files (преписки, Art. 41–49 of the documents regulation), the
-- nomenclature of services and procedures with their stages (Art. 54–59),
-- the tasks that carry a case through its stages (Art. 14, 65–66, 104–113),
-- the case files' links to the map and their map layer (issue 7).
--
-- Everything here is stamped, versioned and audited with the generic
-- triggers of 000011; what the law says is never corrected (a
-- nomenclature entry, an inclusion in a section, a move between task
-- lists) is append-only: munigis_forbid_change plus REVOKE, so the rule
-- holds twice. Package casefiles is the one writer; the triggers keep a row
-- written from psql just as honest.

-- ---------------------------------------------------------------------------
-- Nomenclature of services and procedures (Art. 57–59). code is the
-- national unified service number ("2054") for a service, a local code for
-- a procedure ("signal"). Entries are only added (Art. 59(3)): a changed
-- deadline is a new entry with a new code, so a case always shows the
-- rules it was opened under.
CREATE TABLE services (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code           text NOT NULL UNIQUE CONSTRAINT services_code CHECK (code ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,31}$'),
    name           text NOT NULL CONSTRAINT services_name CHECK (btrim(name) <> ''),
    description    text NOT NULL DEFAULT '',
    unit_id        bigint REFERENCES units (id),
    -- The deadline set by law and the one set by the internal rules, which
    -- may only be shorter (Art. 58(2) p. 5), both in day_kind days.
    statutory_days int CONSTRAINT services_statutory_days CHECK (statutory_days > 0),
    internal_days  int CONSTRAINT services_internal_days CHECK (internal_days > 0),
    day_kind       text NOT NULL DEFAULT 'working' CONSTRAINT services_day_kind_enum CHECK (day_kind IN ('working', 'calendar')),
    instructions   text NOT NULL DEFAULT '',
    created_at     timestamptz NOT NULL DEFAULT date_trunc('second', now()),
    created_by     text NOT NULL DEFAULT munigis_actor(),
    CONSTRAINT services_internal_not_longer CHECK (internal_days <= statutory_days)
);

-- Stages of a service (Art. 55(2)): executor is the body or unit head as
-- text (what the nomenclature says), executor_unit_id the unit whose head
-- gets the stage's task when nobody is named. result_types are document
-- type codes (Art. 55(2) p. 5), checked against document_types by the
-- trigger below (an array cannot carry a foreign key).
CREATE TABLE service_stages (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    service_id       bigint NOT NULL REFERENCES services (id),
    ordinal          int NOT NULL CONSTRAINT service_stages_ordinal CHECK (ordinal > 0),
    name             text NOT NULL CONSTRAINT service_stages_name CHECK (btrim(name) <> ''),
    description      text NOT NULL DEFAULT '',
    executor         text NOT NULL DEFAULT '',
    executor_unit_id bigint REFERENCES units (id),
    days             int NOT NULL CONSTRAINT service_stages_days CHECK (days > 0),
    instructions     text NOT NULL DEFAULT '',
    result_types     text[] NOT NULL DEFAULT '{}',
    created_at       timestamptz NOT NULL DEFAULT date_trunc('second', now()),
    created_by       text NOT NULL DEFAULT munigis_actor(),
    UNIQUE (service_id, ordinal)
);

CREATE FUNCTION munigis_stage_result_types() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    _missing text;
BEGIN
    SELECT string_agg(_c, ', ') INTO _missing FROM unnest(NEW.result_types) _c
    WHERE NOT EXISTS (SELECT 1 FROM document_types _t WHERE _t.code = _c);
    IF _missing IS NOT NULL THEN
        RAISE EXCEPTION USING ERRCODE = 'MG040',
            MESSAGE = format('result_types: no document type %s in the nomenclature of document types', _missing);
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER result_types BEFORE INSERT ON service_stages
    FOR EACH ROW EXECUTE FUNCTION munigis_stage_result_types();

CREATE TRIGGER audit_insert AFTER INSERT ON services REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION munigis_audit_rows('service');
CREATE TRIGGER audit_insert AFTER INSERT ON service_stages REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION munigis_audit_rows('service_stage');
CREATE TRIGGER no_change BEFORE UPDATE OR DELETE ON services
    FOR EACH ROW EXECUTE FUNCTION munigis_forbid_change('services');
CREATE TRIGGER no_truncate BEFORE TRUNCATE ON services
    FOR EACH STATEMENT EXECUTE FUNCTION munigis_forbid_change('services');
CREATE TRIGGER no_change BEFORE UPDATE OR DELETE ON service_stages
    FOR EACH ROW EXECUTE FUNCTION munigis_forbid_change('service stages');
CREATE TRIGGER no_truncate BEFORE TRUNCATE ON service_stages
    FOR EACH STATEMENT EXECUTE FUNCTION munigis_forbid_change('service stages');
REVOKE UPDATE, DELETE, TRUNCATE ON services, service_stages FROM munigis_app;

-- ---------------------------------------------------------------------------
-- Case files (Art. 44(1)). number is the registration number (URI) of the
-- opening document (Art. 44(1) p. 3): casefiles.Open registers the
-- document first, so it is never empty. A case is closed or cancelled,
-- never deleted. The access identifier is kept apart, in case_file_access
-- (below).
CREATE TABLE case_files (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    number              text NOT NULL UNIQUE CONSTRAINT case_files_number CHECK (btrim(number) <> ''),
    opening_document_id bigint NOT NULL UNIQUE REFERENCES documents (id),
    name                text NOT NULL CONSTRAINT case_files_name CHECK (btrim(name) <> ''),
    explanation         text NOT NULL DEFAULT '',
    service_id          bigint REFERENCES services (id),
    status              text NOT NULL DEFAULT 'open' CONSTRAINT case_files_status_enum CHECK (status IN ('open', 'closed', 'cancelled')),
    applicant_person_id bigint REFERENCES persons (id),
    unit_id             bigint REFERENCES units (id),
    due_on              date,
    closed_at           timestamptz,
    version             int NOT NULL DEFAULT 1,
    created_at          timestamptz NOT NULL DEFAULT date_trunc('second', now()),
    created_by          text NOT NULL DEFAULT munigis_actor(),
    updated_at          timestamptz NOT NULL DEFAULT date_trunc('second', now()),
    updated_by          text NOT NULL DEFAULT munigis_actor(),
    CONSTRAINT case_files_closed_at CHECK ((status = 'open') = (closed_at IS NULL))
);
CREATE INDEX case_files_newest ON case_files (created_at DESC, id DESC);
CREATE INDEX case_files_service ON case_files (service_id);
CREATE INDEX case_files_applicant ON case_files (applicant_person_id);
CREATE INDEX case_files_name ON case_files USING gin (munigis_fold(name) gin_trgm_ops);
CREATE TRIGGER stamp BEFORE INSERT OR UPDATE ON case_files
    FOR EACH ROW EXECUTE FUNCTION munigis_stamp();
CREATE TRIGGER keep_version AFTER UPDATE ON case_files
    FOR EACH ROW EXECUTE FUNCTION munigis_keep_version();
CREATE TRIGGER audit_insert AFTER INSERT ON case_files REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION munigis_audit_rows('case_file');
CREATE TRIGGER audit_update AFTER UPDATE ON case_files REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION munigis_audit_rows('case_file');
CREATE TRIGGER no_delete BEFORE DELETE ON case_files
    FOR EACH ROW EXECUTE FUNCTION munigis_forbid_change('case files');
CREATE TRIGGER no_truncate BEFORE TRUNCATE ON case_files
    FOR EACH STATEMENT EXECUTE FUNCTION munigis_forbid_change('case files');
REVOKE DELETE, TRUNCATE ON case_files FROM munigis_app;

-- The access identifier of a case (Art. 44(3)): the SHA-256 of the code,
-- which is shown once, like an API token. Not a column of case_files, where
-- the design first had it: the generic audit and versioning of 000011 copy
-- the whole row into audit_log and record_versions, which auditors read,
-- and a 12-character code's hash is open to an offline search. Here the
-- current hash is replaced in place when a new code is issued, and the
-- audit trail records who issued one and when, never the hash.
CREATE TABLE case_file_access (
    case_file_id bigint PRIMARY KEY REFERENCES case_files (id),
    code_hash    bytea NOT NULL CONSTRAINT case_file_access_code_hash CHECK (length(code_hash) = 32),
    issued_at    timestamptz NOT NULL DEFAULT date_trunc('second', now()),
    issued_by    text NOT NULL DEFAULT munigis_actor()
);
CREATE FUNCTION munigis_case_access_issued() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.issued_at := date_trunc('second', now());
    NEW.issued_by := munigis_actor();
    INSERT INTO audit_log (action, object, after, address)
    VALUES ('case_file.access_code', 'case_file:' || NEW.case_file_id,
            jsonb_build_object('issued_at', NEW.issued_at, 'issued_by', NEW.issued_by, 'first', TG_OP = 'INSERT'),
            nullif(current_setting('munigis.address', true), ''));
    RETURN NEW;
END $$;
CREATE TRIGGER issued BEFORE INSERT OR UPDATE ON case_file_access
    FOR EACH ROW EXECUTE FUNCTION munigis_case_access_issued();
CREATE TRIGGER no_delete BEFORE DELETE ON case_file_access
    FOR EACH ROW EXECUTE FUNCTION munigis_forbid_change('case file access codes');
REVOKE DELETE, TRUNCATE ON case_file_access FROM munigis_app;

-- ---------------------------------------------------------------------------
-- The sections of a case file (Art. 43–47): one row per inclusion of a
-- document, or of another case file (internal section only, Art. 46, 49),
-- numbered in its section in order of inclusion. When, by whom and the
-- number are never corrected (Art. 47); the only change ever made to a row
-- is its removal, once. A document removed from the official section is
-- filed in the control section as a new row pointing back (moved_from,
-- Art. 45(2)–(3)); nothing is ever removed from the control section.
CREATE TABLE case_file_items (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_file_id   bigint NOT NULL REFERENCES case_files (id),
    section        text NOT NULL CONSTRAINT case_file_items_section_enum CHECK (section IN ('official', 'internal', 'control')),
    position       int NOT NULL CONSTRAINT case_file_items_position CHECK (position > 0),
    document_id    bigint REFERENCES documents (id),
    child_case_id  bigint REFERENCES case_files (id),
    included_at    timestamptz NOT NULL DEFAULT date_trunc('second', now()),
    included_by    text NOT NULL DEFAULT munigis_actor(),
    removed_at     timestamptz,
    removed_by     text,
    removal_reason text,
    moved_from     bigint REFERENCES case_file_items (id),
    UNIQUE (case_file_id, section, position),
    CONSTRAINT case_file_items_one_thing CHECK (num_nonnulls(document_id, child_case_id) = 1),
    CONSTRAINT case_file_items_child_internal CHECK (child_case_id IS NULL OR section = 'internal'),
    CONSTRAINT case_file_items_not_itself CHECK (child_case_id IS DISTINCT FROM case_file_id),
    -- The control section holds exactly the documents moved out of the
    -- official one, and keeps them.
    CONSTRAINT case_file_items_control CHECK ((section = 'control') = (moved_from IS NOT NULL)),
    CONSTRAINT case_file_items_control_kept CHECK (section <> 'control' OR removed_at IS NULL),
    CONSTRAINT case_file_items_removed CHECK ((removed_at IS NULL) = (removed_by IS NULL)
                                              AND (removed_at IS NULL) = (removal_reason IS NULL))
);
-- A document (or case) is in a section of a case at most once at a time;
-- it may be in several case files (a document in two cases) and come back
-- after a removal.
CREATE UNIQUE INDEX case_file_items_document ON case_file_items (case_file_id, section, document_id)
    WHERE removed_at IS NULL AND section <> 'control';
CREATE UNIQUE INDEX case_file_items_child ON case_file_items (case_file_id, child_case_id)
    WHERE removed_at IS NULL;
CREATE INDEX case_file_items_document_id ON case_file_items (document_id);
CREATE INDEX case_file_items_child_case_id ON case_file_items (child_case_id);

-- Inclusion and removal are stamped here, not by the caller: "automatic,
-- cannot be corrected" (Art. 47). An update may only set the removal of a
-- row not yet removed; anything else is refused.
CREATE FUNCTION munigis_case_item_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        NEW.included_at := date_trunc('second', now());
        NEW.included_by := munigis_actor();
        NEW.removed_at := NULL;
        NEW.removed_by := NULL;
        NEW.removal_reason := NULL;
        -- A control item is the very document removed from the official
        -- section of the same case (Art. 45(3)).
        IF NEW.moved_from IS NOT NULL AND NOT EXISTS (
                SELECT 1 FROM case_file_items _f
                WHERE _f.id = NEW.moved_from AND _f.case_file_id = NEW.case_file_id AND _f.section = 'official'
                  AND _f.removed_at IS NOT NULL AND _f.document_id IS NOT DISTINCT FROM NEW.document_id
                  AND _f.child_case_id IS NOT DISTINCT FROM NEW.child_case_id) THEN
            RAISE EXCEPTION USING ERRCODE = 'MG041',
                MESSAGE = 'the control section only receives what was removed from the same case''s official section';
        END IF;
        RETURN NEW;
    END IF;
    IF OLD.removed_at IS NOT NULL OR NEW.removal_reason IS NULL OR btrim(NEW.removal_reason) = ''
       OR (NEW.id, NEW.case_file_id, NEW.section, NEW.position, NEW.document_id, NEW.child_case_id,
           NEW.included_at, NEW.included_by, NEW.moved_from)
          IS DISTINCT FROM (OLD.id, OLD.case_file_id, OLD.section, OLD.position, OLD.document_id, OLD.child_case_id,
           OLD.included_at, OLD.included_by, OLD.moved_from) THEN
        RAISE EXCEPTION USING ERRCODE = 'MG041',
            MESSAGE = 'an inclusion in a case file section is never changed; it can only be removed once, with a reason',
            HINT = 'Art. 47 of the documents regulation';
    END IF;
    NEW.removed_at := date_trunc('second', now());
    NEW.removed_by := munigis_actor();
    RETURN NEW;
END $$;
CREATE TRIGGER guard BEFORE INSERT OR UPDATE ON case_file_items
    FOR EACH ROW EXECUTE FUNCTION munigis_case_item_guard();
CREATE TRIGGER no_delete BEFORE DELETE ON case_file_items
    FOR EACH ROW EXECUTE FUNCTION munigis_forbid_change('case file items');
CREATE TRIGGER no_truncate BEFORE TRUNCATE ON case_file_items
    FOR EACH STATEMENT EXECUTE FUNCTION munigis_forbid_change('case file items');
CREATE TRIGGER audit_insert AFTER INSERT ON case_file_items REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION munigis_audit_rows('case_file_item');
CREATE TRIGGER audit_update AFTER UPDATE ON case_file_items REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION munigis_audit_rows('case_file_item');
REVOKE DELETE, TRUNCATE ON case_file_items FROM munigis_app;

-- ---------------------------------------------------------------------------
-- Links to the map. A cadastral identifier (a parcel, building or unit,
-- maybe not yet in the cadastre layers: an application may name a parcel
-- the municipality has not loaded) or a feature of any local layer. A link
-- is unlinked, never deleted, so the map history of a case stays.
CREATE TABLE case_file_objects (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_file_id bigint NOT NULL REFERENCES case_files (id),
    identifier   text NOT NULL CONSTRAINT identifier_cadastral_id CHECK (cadastral_id_valid(identifier)),
    linked_at    timestamptz NOT NULL DEFAULT date_trunc('second', now()),
    linked_by    text NOT NULL DEFAULT munigis_actor(),
    unlinked_at  timestamptz,
    unlinked_by  text,
    CONSTRAINT case_file_objects_unlinked CHECK ((unlinked_at IS NULL) = (unlinked_by IS NULL))
);
CREATE UNIQUE INDEX case_file_objects_live ON case_file_objects (case_file_id, identifier) WHERE unlinked_at IS NULL;
-- Related: a parcel's buildings and units are identifier LIKE '<parcel>.%'.
CREATE INDEX case_file_objects_identifier ON case_file_objects (identifier text_pattern_ops);

-- Feature tables differ per layer (one table per layer, 000002), so the
-- geometry is copied when the feature is linked: the case_files map layer
-- draws where the feature was at that moment, which is also what the case
-- was about; a later edit of the feature does not move the case.
CREATE TABLE case_file_features (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_file_id bigint NOT NULL REFERENCES case_files (id),
    layer        text NOT NULL REFERENCES layers (name),
    feature_id   bigint NOT NULL,
    geom         geometry(Geometry, 7801) NOT NULL,
    geom_3857    geometry(Geometry, 3857) NOT NULL,
    linked_at    timestamptz NOT NULL DEFAULT date_trunc('second', now()),
    linked_by    text NOT NULL DEFAULT munigis_actor(),
    unlinked_at  timestamptz,
    unlinked_by  text,
    CONSTRAINT case_file_features_unlinked CHECK ((unlinked_at IS NULL) = (unlinked_by IS NULL))
);
CREATE UNIQUE INDEX case_file_features_live ON case_file_features (case_file_id, layer, feature_id) WHERE unlinked_at IS NULL;
CREATE INDEX case_file_features_feature ON case_file_features (layer, feature_id);
CREATE INDEX case_file_features_geom_3857 ON case_file_features USING gist (geom_3857);

-- Stamps a link and copies a feature's geometry from its layer's table
-- (only local layers have one); an update may only unlink, once. Any table
-- of links with linked_at/by and unlinked_at/by may use it (000014's
-- case_file_entries does); TG_ARGV[0] names the link in the message.
CREATE FUNCTION munigis_case_link_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    _source text;
BEGIN
    IF TG_OP = 'INSERT' THEN
        NEW.linked_at := date_trunc('second', now());
        NEW.linked_by := munigis_actor();
        NEW.unlinked_at := NULL;
        NEW.unlinked_by := NULL;
        IF TG_TABLE_NAME = 'case_file_features' THEN
            SELECT source INTO _source FROM layers WHERE name = NEW.layer;
            IF _source IS DISTINCT FROM 'local' THEN
                RAISE EXCEPTION USING ERRCODE = 'MG042',
                    MESSAGE = format('features: layer %s has no features of its own to link', NEW.layer);
            END IF;
            EXECUTE format('SELECT geom, geom_3857 FROM features.%I WHERE id = $1', NEW.layer)
                INTO NEW.geom, NEW.geom_3857 USING NEW.feature_id;
            IF NEW.geom IS NULL THEN
                RAISE EXCEPTION USING ERRCODE = 'MG042',
                    MESSAGE = format('features: layer %s has no feature %s', NEW.layer, NEW.feature_id);
            END IF;
        END IF;
        RETURN NEW;
    END IF;
    IF OLD.unlinked_at IS NOT NULL OR to_jsonb(NEW) - 'unlinked_at' - 'unlinked_by'
                                      IS DISTINCT FROM to_jsonb(OLD) - 'unlinked_at' - 'unlinked_by' THEN
        RAISE EXCEPTION USING ERRCODE = 'MG043',
            MESSAGE = coalesce(TG_ARGV[0], 'a link of a case file to the map')
                      || ' is never changed; it can only be unlinked once';
    END IF;
    NEW.unlinked_at := date_trunc('second', now());
    NEW.unlinked_by := munigis_actor();
    RETURN NEW;
END $$;

DO $$
DECLARE
    _t text;
    _kind text;
BEGIN
    FOR _t, _kind IN VALUES ('case_file_objects', 'case_file_object'), ('case_file_features', 'case_file_feature') LOOP
        EXECUTE format('
            CREATE TRIGGER guard BEFORE INSERT OR UPDATE ON %1$I
                FOR EACH ROW EXECUTE FUNCTION munigis_case_link_guard();
            CREATE TRIGGER no_delete BEFORE DELETE ON %1$I
                FOR EACH ROW EXECUTE FUNCTION munigis_forbid_change(%3$L);
            CREATE TRIGGER no_truncate BEFORE TRUNCATE ON %1$I
                FOR EACH STATEMENT EXECUTE FUNCTION munigis_forbid_change(%3$L);
            CREATE TRIGGER audit_insert AFTER INSERT ON %1$I REFERENCING NEW TABLE AS new_rows
                FOR EACH STATEMENT EXECUTE FUNCTION munigis_audit_rows(%2$L);
            CREATE TRIGGER audit_update AFTER UPDATE ON %1$I REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
                FOR EACH STATEMENT EXECUTE FUNCTION munigis_audit_rows(%2$L);
            REVOKE DELETE, TRUNCATE ON %1$I FROM munigis_app;', _t, _kind, replace(_t, '_', ' '));
    END LOOP;
END $$;

-- ---------------------------------------------------------------------------
-- Tasks (Art. 14, 104, 110, 113) in the status lists of a service (Art.
-- 65): pending, completed, cancelled. A task may stand alone (no case,
-- Art. 90). state is Art. 113's: a pending task is in progress once it is
-- started, else not done (Art. 110: until the actual dates and results are
-- entered it counts as not done); a completed one is done; a cancelled one
-- was not done.
CREATE TABLE tasks (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_file_id     bigint REFERENCES case_files (id),
    stage_id         bigint REFERENCES service_stages (id),
    ordinal          int NOT NULL DEFAULT 1 CONSTRAINT tasks_ordinal CHECK (ordinal > 0),
    name             text NOT NULL CONSTRAINT tasks_name CHECK (btrim(name) <> ''),
    description      text NOT NULL DEFAULT '',
    stage            text NOT NULL DEFAULT '',
    executor_user_id bigint REFERENCES users (id),
    unit_id          bigint REFERENCES units (id),
    planned_start    date,
    planned_end      date,
    actual_start     date,
    actual_end       date,
    list             text NOT NULL DEFAULT 'pending' CONSTRAINT tasks_list_enum CHECK (list IN ('pending', 'completed', 'cancelled')),
    state            text NOT NULL DEFAULT 'not_done' CONSTRAINT tasks_state_enum CHECK (state IN ('in_progress', 'done', 'not_done')),
    version          int NOT NULL DEFAULT 1,
    created_at       timestamptz NOT NULL DEFAULT date_trunc('second', now()),
    created_by       text NOT NULL DEFAULT munigis_actor(),
    updated_at       timestamptz NOT NULL DEFAULT date_trunc('second', now()),
    updated_by       text NOT NULL DEFAULT munigis_actor(),
    CONSTRAINT tasks_planned_order CHECK (planned_end >= planned_start),
    CONSTRAINT tasks_actual_order CHECK (actual_end >= actual_start),
    CONSTRAINT tasks_completed CHECK ((list = 'completed') = (state = 'done')),
    CONSTRAINT tasks_completed_dates CHECK (list <> 'completed' OR (actual_start IS NOT NULL AND actual_end IS NOT NULL)),
    CONSTRAINT tasks_cancelled_state CHECK (list <> 'cancelled' OR state = 'not_done')
);
CREATE INDEX tasks_case ON tasks (case_file_id, ordinal, id);
-- The due lists (overdue, this week) per person and per unit read only the
-- pending tasks, in deadline order: 100,000 open tasks stay under 100 ms.
CREATE INDEX tasks_due_executor ON tasks (executor_user_id, planned_end) WHERE list = 'pending';
CREATE INDEX tasks_due_unit ON tasks (unit_id, planned_end) WHERE list = 'pending';
CREATE TRIGGER stamp BEFORE INSERT OR UPDATE ON tasks
    FOR EACH ROW EXECUTE FUNCTION munigis_stamp();
CREATE TRIGGER keep_version AFTER UPDATE ON tasks
    FOR EACH ROW EXECUTE FUNCTION munigis_keep_version();
CREATE TRIGGER audit_insert AFTER INSERT ON tasks REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION munigis_audit_rows('task');
CREATE TRIGGER audit_update AFTER UPDATE ON tasks REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION munigis_audit_rows('task');
-- A task is cancelled (Art. 65(5)), never deleted.
CREATE TRIGGER no_delete BEFORE DELETE ON tasks
    FOR EACH ROW EXECUTE FUNCTION munigis_forbid_change('tasks');
CREATE TRIGGER no_truncate BEFORE TRUNCATE ON tasks
    FOR EACH STATEMENT EXECUTE FUNCTION munigis_forbid_change('tasks');
REVOKE DELETE, TRUNCATE ON tasks FROM munigis_app;

-- The documents a task created (Art. 104(1), 110): only added.
CREATE TABLE task_results (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    task_id     bigint NOT NULL REFERENCES tasks (id),
    document_id bigint NOT NULL REFERENCES documents (id),
    added_at    timestamptz NOT NULL DEFAULT date_trunc('second', now()),
    added_by    text NOT NULL DEFAULT munigis_actor(),
    UNIQUE (task_id, document_id)
);
CREATE INDEX task_results_document ON task_results (document_id);

-- Every inclusion of a task in a list, with when and by whom (Art. 65(6)):
-- written by the trigger on tasks, so no path can move a task silently.
-- from_list is NULL for the first inclusion. (moved_at/moved_by rather
-- than at/by: BY is a reserved word.)
CREATE TABLE task_moves (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    task_id   bigint NOT NULL REFERENCES tasks (id),
    from_list text,
    to_list   text NOT NULL,
    moved_at  timestamptz NOT NULL DEFAULT date_trunc('second', now()),
    moved_by  text NOT NULL DEFAULT munigis_actor()
);
CREATE INDEX task_moves_task ON task_moves (task_id, id);

DO $$
DECLARE
    _t text;
BEGIN
    FOREACH _t IN ARRAY ARRAY['task_results', 'task_moves'] LOOP
        EXECUTE format('
            CREATE TRIGGER no_change BEFORE UPDATE OR DELETE ON %1$I
                FOR EACH ROW EXECUTE FUNCTION munigis_forbid_change(%2$L);
            CREATE TRIGGER no_truncate BEFORE TRUNCATE ON %1$I
                FOR EACH STATEMENT EXECUTE FUNCTION munigis_forbid_change(%2$L);
            REVOKE UPDATE, DELETE, TRUNCATE ON %1$I FROM munigis_app;',
            _t, replace(_t, '_', ' '));
    END LOOP;
END $$;
-- The results are audited; the moves are not: a move is itself the record
-- of who did what when, written beside a task update that is audited.
CREATE TRIGGER audit_insert AFTER INSERT ON task_results REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION munigis_audit_rows('task_result');

-- Per statement, so a bulk write (an import, cancelling a case's tasks)
-- is one insert.
CREATE FUNCTION munigis_task_moves() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO task_moves (task_id, from_list, to_list)
        SELECT _n.id, NULL, _n.list FROM new_rows _n ORDER BY _n.id;
    ELSE
        INSERT INTO task_moves (task_id, from_list, to_list)
        SELECT _n.id, _o.list, _n.list FROM new_rows _n JOIN old_rows _o ON _o.id = _n.id
        WHERE _n.list IS DISTINCT FROM _o.list ORDER BY _n.id;
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER moves_insert AFTER INSERT ON tasks REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION munigis_task_moves();
CREATE TRIGGER moves_update AFTER UPDATE ON tasks REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION munigis_task_moves();

-- A completed task has at least one result document (Art. 110). Checked at
-- commit, so the results may be written before or after the move.
CREATE FUNCTION munigis_task_completed_results() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM task_results WHERE task_id = NEW.id)
       AND EXISTS (SELECT 1 FROM tasks WHERE id = NEW.id AND list = 'completed') THEN
        RAISE EXCEPTION USING ERRCODE = 'MG044',
            MESSAGE = format('task %s: a completed task needs at least one result document', NEW.id),
            HINT = 'Art. 110 of the documents regulation';
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER completed_results AFTER INSERT OR UPDATE OF list ON tasks
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW WHEN (NEW.list = 'completed') EXECUTE FUNCTION munigis_task_completed_results();

-- ---------------------------------------------------------------------------
-- The case_files map layer: one row per (case file, live link), drawn on
-- the cadastral object's current geometry (like the register layers of
-- 000009; a link to an identifier that is no object draws nothing) or on
-- the geometry a feature had when linked. id is stable per link and unique
-- across both kinds: 2 × the object link's id, 2 × the feature link's id
-- + 1. Package layers serves it read-only to holders of a case-file grant.

ALTER TABLE layers DROP CONSTRAINT layers_source_check;
ALTER TABLE layers ADD CONSTRAINT layers_source_check CHECK (source IN ('local', 'wms', 'wfs', 'register', 'case_files'));
ALTER TABLE layers DROP CONSTRAINT layers_source_url;
ALTER TABLE layers ADD CONSTRAINT layers_source_url CHECK ((source IN ('local', 'register', 'case_files')) = (source_url IS NULL));

CREATE VIEW features.case_files AS
    SELECT o.id * 2 AS id, o.case_file_id, cf.number, cf.name, cf.status, s.code AS service, o.identifier,
           c.geom, c.geom_3857, cf.version, cf.created_at, cf.created_by, cf.updated_at, cf.updated_by
    FROM case_file_objects o
    JOIN case_files cf ON cf.id = o.case_file_id
    LEFT JOIN services s ON s.id = cf.service_id
    JOIN cadastral_objects c ON c.identifier = o.identifier
    WHERE o.unlinked_at IS NULL
    UNION ALL
    SELECT f.id * 2 + 1, f.case_file_id, cf.number, cf.name, cf.status, s.code, NULL,
           f.geom, f.geom_3857, cf.version, cf.created_at, cf.created_by, cf.updated_at, cf.updated_by
    FROM case_file_features f
    JOIN case_files cf ON cf.id = f.case_file_id
    LEFT JOIN services s ON s.id = cf.service_id
    WHERE f.unlinked_at IS NULL;

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'munigis_app') THEN
        GRANT SELECT ON features.case_files TO munigis_app;
    END IF;
END $$;

-- The layer is part of the schema, not an act of anyone (like 000009's).
ALTER TABLE layer_types DISABLE TRIGGER audit_insert;
ALTER TABLE layers DISABLE TRIGGER audit_insert;
-- geometry_type: the cadastral objects are polygons; a linked feature of a
-- point or line layer is drawn as it is.
INSERT INTO layer_types (name, title_bg, title_en, geometry_type, built_in, default_style, attributes) VALUES
('case_files', 'Преписки', 'Case files', 'MultiPolygon', true, 'case_files', '[
  {"name": "case_file_id", "type": "integer", "title_bg": "Преписка", "title_en": "Case file"},
  {"name": "number", "type": "text", "title_bg": "Номер", "title_en": "Number"},
  {"name": "name", "type": "text", "title_bg": "Относно", "title_en": "Subject"},
  {"name": "status", "type": "enum", "title_bg": "Състояние", "title_en": "Status", "values": ["open", "closed", "cancelled"]},
  {"name": "service", "type": "text", "title_bg": "Услуга", "title_en": "Service"},
  {"name": "identifier", "type": "cadastral_id", "title_bg": "Идентификатор", "title_en": "Identifier"}
]');
INSERT INTO layers (name, layer_type, title_bg, title_en, visibility, min_zoom, max_zoom, style, source, source_layer, sort_order)
VALUES ('case_files', 'case_files', 'Преписки', 'Case files', 'internal', 12, 22, 'case_files', 'case_files', 'case_files', 210);
ALTER TABLE layer_types ENABLE TRIGGER audit_insert;
ALTER TABLE layers ENABLE TRIGGER audit_insert;

-- Tile notifications for the layer (000006): whatever changes a row of the
-- view announces the extent it covered before and after under the layer
-- name 'case_files' — a case's number, name or status (cases), a link or
-- an unlink (objects, features), and a cadastral object that appears,
-- moves or goes under a linked identifier.
CREATE FUNCTION munigis_case_tiles(b box2d) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF b IS NOT NULL THEN
        PERFORM pg_notify('munigis_tiles', json_build_object('layer', 'case_files',
            'bbox', json_build_array(ST_XMin(b), ST_YMin(b), ST_XMax(b), ST_YMax(b)))::text);
    END IF;
END $$;

CREATE FUNCTION munigis_case_file_tiles() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM munigis_case_tiles((
        SELECT ST_Extent(_g) FROM (
            SELECT _c.geom_3857 AS _g
            FROM new_rows _n JOIN old_rows _o ON _o.id = _n.id
            JOIN case_file_objects _l ON _l.case_file_id = _n.id AND _l.unlinked_at IS NULL
            JOIN cadastral_objects _c ON _c.identifier = _l.identifier
            WHERE (_n.number, _n.name, _n.status, _n.service_id) IS DISTINCT FROM (_o.number, _o.name, _o.status, _o.service_id)
            UNION ALL
            SELECT _f.geom_3857
            FROM new_rows _n JOIN old_rows _o ON _o.id = _n.id
            JOIN case_file_features _f ON _f.case_file_id = _n.id AND _f.unlinked_at IS NULL
            WHERE (_n.number, _n.name, _n.status, _n.service_id) IS DISTINCT FROM (_o.number, _o.name, _o.status, _o.service_id)) _s));
    RETURN NULL;
END $$;
CREATE TRIGGER tiles_update AFTER UPDATE ON case_files REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION munigis_case_file_tiles();

-- Inserts and unlinks both land in new_rows (an unlink is an UPDATE whose
-- row stays, with its identifier or geometry).
CREATE FUNCTION munigis_case_link_tiles() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'case_file_objects' THEN
        PERFORM munigis_case_tiles((SELECT ST_Extent(_c.geom_3857) FROM new_rows _n
                                    JOIN cadastral_objects _c ON _c.identifier = _n.identifier));
    ELSE
        PERFORM munigis_case_tiles((SELECT ST_Extent(_n.geom_3857) FROM new_rows _n));
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER tiles_insert AFTER INSERT ON case_file_objects REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION munigis_case_link_tiles();
CREATE TRIGGER tiles_update AFTER UPDATE ON case_file_objects REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION munigis_case_link_tiles();
CREATE TRIGGER tiles_insert AFTER INSERT ON case_file_features REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION munigis_case_link_tiles();
CREATE TRIGGER tiles_update AFTER UPDATE ON case_file_features REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION munigis_case_link_tiles();

-- A cadastral object under a live link appears, moves or goes. Skipped
-- while no case is linked, so loading the cadastre costs nothing.
CREATE FUNCTION munigis_cadastre_case_tiles() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM case_file_objects WHERE unlinked_at IS NULL) THEN
        RETURN NULL;
    END IF;
    -- Each branch names only the transition tables its event has.
    IF TG_OP = 'INSERT' THEN
        PERFORM munigis_case_tiles((SELECT ST_Extent(_r.geom_3857) FROM new_rows _r
            WHERE EXISTS (SELECT 1 FROM case_file_objects _l WHERE _l.identifier = _r.identifier AND _l.unlinked_at IS NULL)));
    ELSIF TG_OP = 'DELETE' THEN
        PERFORM munigis_case_tiles((SELECT ST_Extent(_r.geom_3857) FROM old_rows _r
            WHERE EXISTS (SELECT 1 FROM case_file_objects _l WHERE _l.identifier = _r.identifier AND _l.unlinked_at IS NULL)));
    ELSE
        PERFORM munigis_case_tiles((SELECT ST_Extent(_r.geom_3857)
            FROM (SELECT identifier, geom_3857 FROM old_rows UNION ALL SELECT identifier, geom_3857 FROM new_rows) _r
            WHERE EXISTS (SELECT 1 FROM case_file_objects _l WHERE _l.identifier = _r.identifier AND _l.unlinked_at IS NULL)));
    END IF;
    RETURN NULL;
END $$;

DO $$
DECLARE
    _t text;
BEGIN
    FOREACH _t IN ARRAY ARRAY['cadastre_parcels', 'cadastre_buildings', 'cadastre_units'] LOOP
        EXECUTE format('
            CREATE TRIGGER case_tiles_insert AFTER INSERT ON features.%1$I REFERENCING NEW TABLE AS new_rows
                FOR EACH STATEMENT EXECUTE FUNCTION munigis_cadastre_case_tiles();
            CREATE TRIGGER case_tiles_update AFTER UPDATE ON features.%1$I REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
                FOR EACH STATEMENT EXECUTE FUNCTION munigis_cadastre_case_tiles();
            CREATE TRIGGER case_tiles_delete AFTER DELETE ON features.%1$I REFERENCING OLD TABLE AS old_rows
                FOR EACH STATEMENT EXECUTE FUNCTION munigis_cadastre_case_tiles();', _t);
    END LOOP;
END $$;

-- ---------------------------------------------------------------------------
-- The building-related services of the national list (seed-004 §11.3,
-- App. 5) and the procedure for citizens' signals, with realistic stages.
-- Deadlines of the Spatial Development Act (ЗУТ) are in calendar days, as
-- the act counts them; where the article is cited it is the term as we
-- read it, where it is marked "default" the municipality must check it
-- against its internal rules (Наредба за административното обслужване,
-- Art. 1(2)) before going live. A changed deadline is a new service entry
-- (Art. 59(3)). Part of the schema, not an act of anyone: not audited.
ALTER TABLE services DISABLE TRIGGER audit_insert;
ALTER TABLE service_stages DISABLE TRIGGER audit_insert;

INSERT INTO services (code, name, description, statutory_days, internal_days, day_kind, instructions, created_by) VALUES
-- Default 7 days: the term in the services' register for an ordinary
-- sketch (a faster paid term exists); check.
('2027', 'Издаване на скица за недвижим имот',
 'Скица на поземлен имот или УПИ по действащия подробен устройствен план.',
 7, NULL, 'calendar', 'Проверете собствеността в Имотния регистър служебно, преди да поискате документ от заявителя.', 'system:migration'),
-- ЗУТ Art. 144(3): investment projects are approved within 14 days of the
-- application (a month where a compliance assessment is made by the
-- municipality itself: check).
('2054', 'Съгласуване и одобряване на инвестиционни проекти, въз основа на които се издава разрешение за строеж',
 'Одобряване на инвестиционен проект от главния архитект (чл. 145 ЗУТ).',
 14, NULL, 'calendar', 'Ако заявителят е поискал, разрешението за строеж се издава едновременно (чл. 148, ал. 4 ЗУТ).', 'system:migration'),
-- ЗУТ Art. 148(4): the permit is issued within 7 days of the approval of
-- the project.
('2112', 'Издаване на разрешение за строеж',
 'Разрешение за строеж въз основа на одобрен инвестиционен проект.',
 7, NULL, 'calendar', '', 'system:migration'),
-- Default 14 days: the general term for issuing an act (АПК Art. 57(1));
-- check.
('2082', 'Издаване на удостоверение за идентичност на урегулиран поземлен имот',
 'Идентичност между документа за собственост и действащия план или между стар и нов план.',
 14, NULL, 'calendar', '', 'system:migration'),
-- Default 30 days: needs an inspection on site and the evidence of when
-- the building was built; check.
('2084', 'Издаване на удостоверение за търпимост на строеж',
 'Удостоверение по § 16, ал. 1 ПР ЗУТ и § 127 ПЗР ЗИД ЗУТ.',
 30, NULL, 'calendar', 'Необходим е оглед на място.', 'system:migration'),
-- Default 60 days: the detailed plan goes through the expert council
-- (ЗУТ Art. 128) and the public announcement; the act sets terms per step
-- rather than one in total; check.
('2117', 'Одобряване на подробен устройствен план (ПУП)',
 'ПР, ПУР, ПРЗ, ПЗ, РУП или ПП по чл. 124а и сл. ЗУТ.',
 60, NULL, 'calendar', '', 'system:migration'),
-- Default 14 days (АПК Art. 57(1)); check.
('2119', 'Издаване на удостоверения за факти и обстоятелства по териториалното и селищно устройство',
 'Удостоверение за факти и обстоятелства по ЗУТ.',
 14, NULL, 'calendar', '', 'system:migration'),
-- Default 14 days; check.
('2120', 'Допълване или поправка на кадастралния план и/или разписния списък към него',
 'Промяна в разписния списък към кадастралния план.',
 14, NULL, 'calendar', '', 'system:migration'),
-- A local procedure, not a service. АПК Art. 118(1) gives two months for a
-- signal (written here as 60 days, which is not the same as two months);
-- the internal 30 calendar days is this municipality's default. The
-- municipality must check both against the АПК and its internal rules.
('signal', 'Сигнал на гражданин',
 'Разглеждане на сигнал или предложение по глава осма от АПК.',
 60, 30, 'calendar', 'Анонимни сигнали не се разглеждат (чл. 111, ал. 4 АПК).', 'system:migration');

INSERT INTO service_stages (service_id, ordinal, name, description, executor, days, result_types, created_by)
SELECT s.id, st.ordinal, st.name, st.description, st.executor, st.days, st.result_types, 'system:migration'
FROM (VALUES
    ('2027', 1, 'Приемане и регистрация', 'Регистриране на заявлението в деловодната система', 'Център за административно обслужване', 1, '{receipt_confirmation}'::text[]),
    ('2027', 2, 'Изготвяне на скицата', 'Проверка на редовността и изготвяне на скицата', 'Главен архитект', 5, '{sketch}'),
    ('2027', 3, 'Издаване', 'Подписване и предаване на скицата', 'Главен архитект', 1, '{sketch}'),
    ('2054', 1, 'Приемане и регистрация', 'Регистриране на заявлението и проекта', 'Център за административно обслужване', 1, '{receipt_confirmation}'),
    ('2054', 2, 'Проверка на редовността', 'Проверка на комплектността; при нередовност – съобщение с указания и срок', 'Отдел „Устройство на територията“', 3, '{irregularity_notice}'),
    ('2054', 3, 'Становище на главния архитект', 'Оценка за съответствие и становище (при нужда – ЕСУТ)', 'Главен архитект', 8, '{protocol,internal_note}'),
    ('2054', 4, 'Одобряване на проекта', 'Одобряване и съобщаване на заинтересуваните лица', 'Главен архитект', 2, '{order}'),
    ('2112', 1, 'Приемане и регистрация', 'Регистриране на заявлението', 'Център за административно обслужване', 1, '{receipt_confirmation}'),
    ('2112', 2, 'Проверка на одобрения проект', 'Проверка на одобрения инвестиционен проект и документите', 'Отдел „Устройство на територията“', 3, '{internal_note}'),
    ('2112', 3, 'Издаване на разрешението за строеж', 'Издаване и вписване в регистъра на разрешенията за строеж', 'Главен архитект', 3, '{building_permit}'),
    ('2082', 1, 'Приемане и регистрация', 'Регистриране на заявлението', 'Център за административно обслужване', 1, '{receipt_confirmation}'),
    ('2082', 2, 'Проверка на редовността', 'Проверка на документа за собственост и плановете', 'Отдел „Устройство на територията“', 6, '{irregularity_notice}'),
    ('2082', 3, 'Издаване на удостоверението', 'Изготвяне и подписване на удостоверението', 'Главен архитект', 7, '{certificate}'),
    ('2084', 1, 'Приемане и регистрация', 'Регистриране на заявлението', 'Център за административно обслужване', 1, '{receipt_confirmation}'),
    ('2084', 2, 'Проверка на редовността и оглед', 'Проверка на доказателствата за времето на строителство и оглед на място', 'Отдел „Устройство на територията“', 20, '{protocol}'),
    ('2084', 3, 'Издаване на удостоверението', 'Изготвяне и подписване от главния архитект', 'Главен архитект', 9, '{certificate}'),
    ('2117', 1, 'Приемане и регистрация', 'Регистриране на заявлението и проекта', 'Център за административно обслужване', 1, '{receipt_confirmation}'),
    ('2117', 2, 'Проверка на редовността', 'Проверка на заданието и комплектността', 'Отдел „Устройство на територията“', 9, '{irregularity_notice}'),
    ('2117', 3, 'Разглеждане от ЕСУТ', 'Експертен съвет по устройство на територията', 'Главен архитект', 30, '{protocol}'),
    ('2117', 4, 'Одобряване на плана', 'Заповед на кмета и обнародване', 'Кмет', 20, '{order}'),
    ('2119', 1, 'Приемане и регистрация', 'Регистриране на заявлението', 'Център за административно обслужване', 1, '{receipt_confirmation}'),
    ('2119', 2, 'Проверка и изготвяне', 'Проверка на фактите по плановете и архива', 'Отдел „Устройство на територията“', 10, '{internal_note}'),
    ('2119', 3, 'Издаване на удостоверението', 'Подписване от кмета', 'Кмет', 3, '{certificate}'),
    ('2120', 1, 'Приемане и регистрация', 'Регистриране на заявлението', 'Център за административно обслужване', 1, '{receipt_confirmation}'),
    ('2120', 2, 'Проверка на редовността', 'Проверка на документите за собственост', 'Отдел „Устройство на територията“', 6, '{irregularity_notice}'),
    ('2120', 3, 'Промяна в разписния списък', 'Вписване на промяната и съобщаване', 'Главен архитект', 7, '{order}'),
    ('signal', 1, 'Приемане и регистрация', 'Регистриране на сигнала', 'Деловодство', 1, '{receipt_confirmation}'),
    ('signal', 2, 'Проверка по сигнала', 'Проверка на място или по документи', 'Компетентното звено', 20, '{protocol,internal_note}'),
    ('signal', 3, 'Отговор', 'Отговор на подателя', 'Кмет или упълномощено лице', 9, '{reply}')
) AS st (code, ordinal, name, description, executor, days, result_types)
JOIN services s ON s.code = st.code;

ALTER TABLE services ENABLE TRIGGER audit_insert;
ALTER TABLE service_stages ENABLE TRIGGER audit_insert;
