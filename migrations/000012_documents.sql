-- Documents, their file content, the nomenclature of document types and the
-- official document register (ОДР) of the documents regulation (Наредба за
-- документите): Art. 19–22 (documents), 23–31 (the register), 51–53 (the
-- nomenclature of document types). Package documents is the only writer.
--
-- Stamping, history, audit and immutability use the generic functions of
-- 000011 (munigis_stamp, munigis_keep_version, munigis_audit_rows,
-- munigis_forbid_change). Append-only tables refuse UPDATE/DELETE/TRUNCATE
-- by trigger (for the owner too) and by REVOKE from munigis_app.

-- File content, addressed by its SHA-256: the same bytes are stored once,
-- however many documents or versions point at them. The content lives in
-- PostgreSQL rather than on a disk beside it: one backup holds everything,
-- and an upload that is refused or fails rolls back with its transaction,
-- leaving no orphan file. Rows are never changed (the address is the
-- content) or deleted (documents are kept at least 20 years, Art. 4(4)).
--
-- Not audited row by row: munigis_audit_rows copies the whole row into
-- audit_log, which would put megabytes of content into the trail. Every
-- use of a file is audited where it is made (document_versions,
-- document_types.template_sha256), naming the sha256.
CREATE TABLE files (
    sha256     bytea PRIMARY KEY CONSTRAINT files_sha256 CHECK (octet_length(sha256) = 32),
    size       bigint NOT NULL CONSTRAINT files_size CHECK (size >= 0),
    -- As sniffed from the bytes (never the client's word), with its
    -- parameters: "text/plain; charset=utf-8".
    media_type text NOT NULL CONSTRAINT files_media_type CHECK (media_type ~ '^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*(; ?[a-z0-9_.-]+=[A-Za-z0-9_.-]+)*$'),
    content    bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT date_trunc('second', now()),
    created_by text NOT NULL DEFAULT munigis_actor(),
    -- The address is the content: a row whose bytes do not hash to its key
    -- (a hand-written INSERT, a bug) is refused. PostgreSQL's sha256() runs
    -- at several hundred MB/s, a small price next to the upload itself.
    CONSTRAINT files_content CHECK (octet_length(content) = size AND sha256(content) = sha256)
);
-- PDFs, JPEGs, PNGs and DOCX/XLSX (zip) are compressed already: EXTERNAL
-- stores them out of line without TOAST's pglz attempt, which would cost
-- CPU for nothing and makes substring reads (ranges) cheap.
ALTER TABLE files ALTER COLUMN content SET STORAGE EXTERNAL;
CREATE TRIGGER no_change BEFORE UPDATE OR DELETE ON files
    FOR EACH ROW EXECUTE FUNCTION munigis_forbid_change('files');
CREATE TRIGGER no_truncate BEFORE TRUNCATE ON files
    FOR EACH STATEMENT EXECUTE FUNCTION munigis_forbid_change('files');
REVOKE UPDATE, DELETE, TRUNCATE ON files FROM munigis_app;

-- The nomenclature of document types (Art. 52(1)): p. 1 the unique
-- identifier (code, and the uri where the type is published), p. 2 the
-- name, p. 3 the explanation, p. 4 the processing mode, p. 5 the
-- signatory, p. 6 the archival value, p. 7 the storage section, the
-- retention period, the viewer and the template. Entries are only added,
-- never changed or deleted (Art. 53(3)): a changed type is a new entry.
CREATE TABLE document_types (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code            text NOT NULL UNIQUE CONSTRAINT document_types_code CHECK (code ~ '^[a-z][a-z0-9_]{0,47}$'),
    uri             text,
    name            text NOT NULL CONSTRAINT document_types_name CHECK (btrim(name) <> ''),
    explanation     text,
    processing_mode text NOT NULL CONSTRAINT document_types_processing_mode_enum
                    CHECK (processing_mode IN ('starts', 'continues', 'related')),
    signatory       text,
    archival_value  text NOT NULL CONSTRAINT document_types_archival_value_enum
                    CHECK (archival_value IN ('archival', 'non_archival', 'expert')),
    storage_section text NOT NULL DEFAULT 'не се класифицира',
    retention_years int CONSTRAINT document_types_retention_years CHECK (retention_years > 0),
    viewer_uri      text,
    template_sha256 bytea REFERENCES files (sha256),
    created_at      timestamptz NOT NULL DEFAULT date_trunc('second', now()),
    created_by      text NOT NULL DEFAULT munigis_actor()
);
CREATE TRIGGER no_change BEFORE UPDATE OR DELETE ON document_types
    FOR EACH ROW EXECUTE FUNCTION munigis_forbid_change('document types');
CREATE TRIGGER no_truncate BEFORE TRUNCATE ON document_types
    FOR EACH STATEMENT EXECUTE FUNCTION munigis_forbid_change('document types');
CREATE TRIGGER audit_insert AFTER INSERT ON document_types REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION munigis_audit_rows('document_type');
REVOKE UPDATE, DELETE, TRUNCATE ON document_types FROM munigis_app;

-- The built-in nomenclature. Archival values follow the usual practice of
-- a municipal archive: what decides a right or records an act of the
-- administration (permits, orders, contracts, protocols, visas) is
-- archival; correspondence that only moves a procedure on is for the
-- expert commission; receipts and notices of irregularity carry no
-- archival value of their own (Art. 52(1) p. 6).
-- Part of the schema, not an act of anyone (like the built-in layers of
-- 000003): the audit trail starts empty after migrating.
ALTER TABLE document_types DISABLE TRIGGER audit_insert;
INSERT INTO document_types (code, name, explanation, processing_mode, archival_value, retention_years, created_by) VALUES
    ('application', 'Заявление', 'Заявление за административна услуга', 'starts', 'expert', 10, 'system:migration'),
    ('signal', 'Сигнал', 'Сигнал по Административнопроцесуалния кодекс', 'starts', 'expert', 5, 'system:migration'),
    ('complaint', 'Жалба', 'Жалба срещу акт или действие на администрацията', 'starts', 'expert', 10, 'system:migration'),
    ('incoming_letter', 'Входящо писмо', 'Писмо, получено в хода на преписка', 'continues', 'expert', 5, 'system:migration'),
    ('reply', 'Отговор', 'Отговор на администрацията по преписка', 'continues', 'expert', 5, 'system:migration'),
    ('outgoing_letter', 'Изходящо писмо', 'Писмо на администрацията, свързано с преписка, което не е отговор', 'related', 'expert', 5, 'system:migration'),
    ('receipt_confirmation', 'Потвърждаване за получаване', 'Потвърждаване за получаване на електронен документ (чл. 70)', 'continues', 'non_archival', 3, 'system:migration'),
    ('irregularity_notice', 'Съобщение за нередовност', 'Съобщение за отстраняване на нередовности (чл. 84)', 'continues', 'non_archival', 3, 'system:migration'),
    ('sketch', 'Скица', 'Скица на поземлен имот', 'continues', 'archival', NULL, 'system:migration'),
    ('design_visa', 'Виза за проектиране', 'Виза за проектиране (чл. 140 ЗУТ)', 'continues', 'archival', NULL, 'system:migration'),
    ('building_permit', 'Разрешение за строеж', 'Разрешение за строеж (чл. 148 ЗУТ)', 'continues', 'archival', NULL, 'system:migration'),
    ('certificate', 'Удостоверение', 'Удостоверение, издадено от администрацията', 'continues', 'expert', 10, 'system:migration'),
    ('order', 'Заповед', 'Заповед на кмета или упълномощено лице', 'related', 'archival', NULL, 'system:migration'),
    ('internal_note', 'Докладна записка', 'Вътрешен документ на администрацията', 'related', 'expert', 5, 'system:migration'),
    ('protocol', 'Протокол', 'Протокол от заседание, проверка или оглед', 'related', 'archival', NULL, 'system:migration'),
    ('contract', 'Договор', 'Договор, сключен от общината', 'related', 'archival', NULL, 'system:migration');
ALTER TABLE document_types ENABLE TRIGGER audit_insert;

-- Documents (Art. 20): who created one and when (to the second), its name,
-- its content (document_versions), type, author and signatory. The
-- metadata may be edited (every version kept in record_versions); a
-- document is never deleted: it is kept at least 20 years (Art. 4(4)) and
-- a registered one is part of the register (Art. 29(1)).
CREATE TABLE documents (
    id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name             text NOT NULL CONSTRAINT documents_name CHECK (btrim(name) <> ''),
    -- NULL while the type is not yet known (a document drafted before it is
    -- classified); registration requires one.
    type_id          bigint REFERENCES document_types (id),
    direction        text NOT NULL DEFAULT 'incoming'
                     CONSTRAINT documents_direction_enum CHECK (direction IN ('incoming', 'outgoing', 'internal')),
    author           text,
    author_person_id bigint REFERENCES persons (id),
    signatory        text,
    received_via     text,
    for_applicant    boolean NOT NULL DEFAULT false,
    -- The current content version (document_versions.n); 0 = no content yet.
    content_version  int NOT NULL DEFAULT 0 CONSTRAINT documents_content_version CHECK (content_version >= 0),
    version          int NOT NULL DEFAULT 1,
    created_at       timestamptz NOT NULL DEFAULT date_trunc('second', now()),
    created_by       text NOT NULL DEFAULT munigis_actor(),
    updated_at       timestamptz NOT NULL DEFAULT date_trunc('second', now()),
    updated_by       text NOT NULL DEFAULT munigis_actor()
);
CREATE INDEX documents_type ON documents (type_id);
CREATE INDEX documents_author_person ON documents (author_person_id);
CREATE INDEX documents_name_search ON documents USING gin (munigis_fold(name) gin_trgm_ops);
CREATE TRIGGER stamp BEFORE INSERT OR UPDATE ON documents
    FOR EACH ROW EXECUTE FUNCTION munigis_stamp();
CREATE TRIGGER keep_version AFTER UPDATE ON documents
    FOR EACH ROW EXECUTE FUNCTION munigis_keep_version();
CREATE TRIGGER audit_insert AFTER INSERT ON documents REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION munigis_audit_rows('document');
CREATE TRIGGER audit_update AFTER UPDATE ON documents REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION munigis_audit_rows('document');
CREATE TRIGGER no_delete BEFORE DELETE ON documents
    FOR EACH ROW EXECUTE FUNCTION munigis_forbid_change('documents');
CREATE TRIGGER no_truncate BEFORE TRUNCATE ON documents
    FOR EACH STATEMENT EXECUTE FUNCTION munigis_forbid_change('documents');
REVOKE DELETE, TRUNCATE ON documents FROM munigis_app;

-- The content versions of a document: n = 1, 2, ... in order. A new
-- version is a new row (and documents.content_version moves to it); an old
-- one is never changed, so what was registered or sent stays readable.
CREATE TABLE document_versions (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    document_id bigint NOT NULL REFERENCES documents (id),
    n           int NOT NULL CONSTRAINT document_versions_n CHECK (n > 0),
    file_sha256 bytea NOT NULL REFERENCES files (sha256),
    file_name   text NOT NULL CONSTRAINT document_versions_file_name CHECK (btrim(file_name) <> '' AND file_name !~ '[/\\[:cntrl:]]'),
    created_at  timestamptz NOT NULL DEFAULT date_trunc('second', now()),
    created_by  text NOT NULL DEFAULT munigis_actor(),
    UNIQUE (document_id, n)
);
CREATE INDEX document_versions_file ON document_versions (file_sha256);
CREATE TRIGGER no_change BEFORE UPDATE OR DELETE ON document_versions
    FOR EACH ROW EXECUTE FUNCTION munigis_forbid_change('document versions');
CREATE TRIGGER no_truncate BEFORE TRUNCATE ON document_versions
    FOR EACH STATEMENT EXECUTE FUNCTION munigis_forbid_change('document versions');
CREATE TRIGGER audit_insert AFTER INSERT ON document_versions REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION munigis_audit_rows('document_version');
REVOKE UPDATE, DELETE, TRUNCATE ON document_versions FROM munigis_app;

-- The settings of the official document register: one register per
-- municipality (Art. 23(4)), named after its administration (Art. 27).
-- The lead's design had "id boolean PRIMARY KEY CHECK (id)"; the generic
-- munigis_keep_version and munigis_audit_rows of 000011 key their rows by a
-- numeric id (record_versions.record_id bigint, object 'kind:<id>'), so the
-- one row is id 1 instead, held to it by the CHECK.
CREATE TABLE odr_settings (
    id                 int PRIMARY KEY DEFAULT 1 CONSTRAINT odr_settings_one CHECK (id = 1),
    -- The register's number in the register of registers (Art. 23(3)): the
    -- first part of every registration number.
    registration_index text NOT NULL CONSTRAINT odr_settings_registration_index CHECK (registration_index ~ '^[0-9A-Za-z]{1,20}$'),
    administration     text NOT NULL CONSTRAINT odr_settings_administration CHECK (btrim(administration) <> ''),
    name               text GENERATED ALWAYS AS ('Официален документен регистър на ' || administration) STORED,
    -- An archived register takes no new entries (Art. 23(5)).
    status             text NOT NULL DEFAULT 'active' CONSTRAINT odr_settings_status_enum CHECK (status IN ('active', 'archived')),
    version            int NOT NULL DEFAULT 1,
    created_at         timestamptz NOT NULL DEFAULT date_trunc('second', now()),
    created_by         text NOT NULL DEFAULT munigis_actor(),
    updated_at         timestamptz NOT NULL DEFAULT date_trunc('second', now()),
    updated_by         text NOT NULL DEFAULT munigis_actor()
);
CREATE TRIGGER stamp BEFORE INSERT OR UPDATE ON odr_settings
    FOR EACH ROW EXECUTE FUNCTION munigis_stamp();
CREATE TRIGGER keep_version AFTER UPDATE ON odr_settings
    FOR EACH ROW EXECUTE FUNCTION munigis_keep_version();
CREATE TRIGGER audit_insert AFTER INSERT ON odr_settings REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION munigis_audit_rows('odr_settings');
CREATE TRIGGER audit_update AFTER UPDATE ON odr_settings REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION munigis_audit_rows('odr_settings');
CREATE TRIGGER no_delete BEFORE DELETE ON odr_settings
    FOR EACH ROW EXECUTE FUNCTION munigis_forbid_change('the register settings');
CREATE TRIGGER no_truncate BEFORE TRUNCATE ON odr_settings
    FOR EACH STATEMENT EXECUTE FUNCTION munigis_forbid_change('the register settings');
REVOKE DELETE, TRUNCATE ON odr_settings FROM munigis_app;

SELECT set_config('munigis.actor', 'system:migration', true);
ALTER TABLE odr_settings DISABLE TRIGGER audit_insert;
INSERT INTO odr_settings (registration_index, administration) VALUES ('1', 'Община');
ALTER TABLE odr_settings ENABLE TRIGGER audit_insert;

-- The gap-free counter of registration numbers, one row per calendar year
-- (Art. 28(6): numbers restart each year). Not a sequence: a sequence's
-- value is gone when the transaction that took it rolls back, which leaves
-- a gap in the register; this row is locked by the registering transaction
-- (INSERT ... ON CONFLICT DO UPDATE) and its increment rolls back with it.
-- The counter only ever moves up by one and is never deleted (a trigger
-- holds it to that), so together with the check on odr_entries below each
-- number 1..last of a year is taken by exactly one entry. Not audited: it
-- is derived, and every step of it is an audited odr_entries row.
CREATE TABLE odr_counters (
    year int PRIMARY KEY CONSTRAINT odr_counters_year CHECK (year BETWEEN 2000 AND 9999),
    last int NOT NULL CONSTRAINT odr_counters_last CHECK (last > 0)
);

CREATE FUNCTION munigis_odr_counter_step() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.last <> 1 THEN
            RAISE EXCEPTION USING ERRCODE = 'MG040',
                MESSAGE = format('the registration numbers of %s must start at 1', NEW.year);
        END IF;
    ELSIF NEW.year <> OLD.year OR NEW.last <> OLD.last + 1 THEN
        RAISE EXCEPTION USING ERRCODE = 'MG040',
            MESSAGE = 'a registration counter only moves up by one (Art. 28(6): no gaps)';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER step BEFORE INSERT OR UPDATE ON odr_counters
    FOR EACH ROW EXECUTE FUNCTION munigis_odr_counter_step();
CREATE TRIGGER no_delete BEFORE DELETE ON odr_counters
    FOR EACH ROW EXECUTE FUNCTION munigis_forbid_change('registration counters');
CREATE TRIGGER no_truncate BEFORE TRUNCATE ON odr_counters
    FOR EACH STATEMENT EXECUTE FUNCTION munigis_forbid_change('registration counters');
REVOKE DELETE, TRUNCATE ON odr_counters FROM munigis_app;

-- The registration number <index>-<sequence>-<DD.MM.YYYY> (Art. 28(6); the
-- leading zeros of the sequence are dropped, which the article allows).
-- Built from integers only, so it is IMMUTABLE and can be a generated
-- column (to_char is only STABLE). Go: documents.FormatNumber.
CREATE FUNCTION munigis_odr_number(idx text, seq int, d date) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT idx || '-' || seq || '-'
        || lpad(extract(day FROM d)::int::text, 2, '0') || '.'
        || lpad(extract(month FROM d)::int::text, 2, '0') || '.'
        || extract(year FROM d)::int::text
$$;

-- The entries of the official document register (Art. 28(1)): never
-- changed or deleted (Art. 29(1)); corrections are odr_corrections rows.
CREATE TABLE odr_entries (
    id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    registration_index text NOT NULL CONSTRAINT odr_entries_registration_index CHECK (registration_index ~ '^[0-9A-Za-z]{1,20}$'),
    -- The calendar year (Europe/Sofia) of the registration, whose counter
    -- gave the sequence.
    year               int NOT NULL,
    sequence           int NOT NULL CONSTRAINT odr_entries_sequence CHECK (sequence > 0),
    -- The date of receipt or signing (Art. 28(1) p. 3) as registered: part
    -- of the number, so a correction of it never changes the number.
    received_on        date NOT NULL,
    number             text NOT NULL UNIQUE GENERATED ALWAYS AS (munigis_odr_number(registration_index, sequence, received_on)) STORED,
    document_id        bigint NOT NULL UNIQUE REFERENCES documents (id),
    document_type_id   bigint NOT NULL REFERENCES document_types (id),
    entered_at         timestamptz NOT NULL CONSTRAINT odr_entries_entered_at CHECK (entered_at = date_trunc('second', entered_at)),
    entered_by         text NOT NULL CONSTRAINT odr_entries_entered_by CHECK (btrim(entered_by) <> ''),
    UNIQUE (registration_index, year, sequence),
    CONSTRAINT odr_entries_year CHECK (year = extract(year FROM entered_at AT TIME ZONE 'Europe/Sofia')),
    CONSTRAINT odr_entries_received_on CHECK (received_on <= (entered_at AT TIME ZONE 'Europe/Sofia')::date)
);
-- Note: number is unique on its own, though the sequence restarts each
-- year, because it carries the date of receipt. Two years' entries with the
-- same sequence would need the same date of receipt, i.e. a document
-- received a year or more before its registration; the second is then
-- refused (a Conflict), never given a duplicate number.
CREATE INDEX odr_entries_year_sequence ON odr_entries (year, sequence);
-- The register is searched by (part of) a number or the document's name.
CREATE INDEX odr_entries_number_search ON odr_entries USING gin (number gin_trgm_ops);
CREATE INDEX odr_entries_entered_at ON odr_entries (entered_at);
CREATE INDEX odr_entries_type ON odr_entries (document_type_id);

-- Every entry takes its sequence from the counter, in the same
-- transaction, and only while the register is active: a number cannot be
-- skipped or invented by an INSERT that bypasses the counter.
CREATE FUNCTION munigis_odr_entry_check() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    _s odr_settings;
BEGIN
    SELECT * INTO _s FROM odr_settings WHERE id = 1;
    IF _s.status IS DISTINCT FROM 'active' THEN
        RAISE EXCEPTION USING ERRCODE = 'MG041',
            MESSAGE = 'the official document register is archived and takes no new entries (Art. 23(5))';
    END IF;
    IF NEW.registration_index IS DISTINCT FROM _s.registration_index THEN
        RAISE EXCEPTION USING ERRCODE = 'MG041',
            MESSAGE = format('the registration index is %s, not %s', _s.registration_index, NEW.registration_index);
    END IF;
    IF NEW.sequence IS DISTINCT FROM (SELECT last FROM odr_counters WHERE year = NEW.year) THEN
        RAISE EXCEPTION USING ERRCODE = 'MG041',
            MESSAGE = 'a registration number must be taken from the register''s counter (Art. 28(6))';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER from_counter BEFORE INSERT ON odr_entries
    FOR EACH ROW EXECUTE FUNCTION munigis_odr_entry_check();
CREATE TRIGGER no_change BEFORE UPDATE OR DELETE ON odr_entries
    FOR EACH ROW EXECUTE FUNCTION munigis_forbid_change('entries of the official document register');
CREATE TRIGGER no_truncate BEFORE TRUNCATE ON odr_entries
    FOR EACH STATEMENT EXECUTE FUNCTION munigis_forbid_change('entries of the official document register');
CREATE TRIGGER audit_insert AFTER INSERT ON odr_entries REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION munigis_audit_rows('odr_entry');
REVOKE UPDATE, DELETE, TRUNCATE ON odr_entries FROM munigis_app;

-- Corrections of register entries (Art. 29): visible records that never
-- change the entry or its number (Art. 29(4)). 'type' and 'received_on'
-- carry the old and the new value (a type code, a date YYYY-MM-DD); 'void'
-- marks an entry made by mistake, its number staying taken.
CREATE TABLE odr_corrections (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    entry_id  bigint NOT NULL REFERENCES odr_entries (id),
    field     text NOT NULL CONSTRAINT odr_corrections_field_enum CHECK (field IN ('type', 'received_on', 'void')),
    old_value text NOT NULL DEFAULT '',
    new_value text NOT NULL DEFAULT '',
    reason    text NOT NULL CONSTRAINT odr_corrections_reason CHECK (btrim(reason) <> ''),
    at        timestamptz NOT NULL DEFAULT date_trunc('second', now()),
    by        text NOT NULL DEFAULT munigis_actor(),
    CONSTRAINT odr_corrections_new_value CHECK (
        (field = 'type' AND new_value ~ '^[a-z][a-z0-9_]{0,47}$')
        OR (field = 'received_on' AND new_value ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$')
        OR field = 'void')
);
CREATE INDEX odr_corrections_entry ON odr_corrections (entry_id, id);
CREATE TRIGGER no_change BEFORE UPDATE OR DELETE ON odr_corrections
    FOR EACH ROW EXECUTE FUNCTION munigis_forbid_change('corrections of the official document register');
CREATE TRIGGER no_truncate BEFORE TRUNCATE ON odr_corrections
    FOR EACH STATEMENT EXECUTE FUNCTION munigis_forbid_change('corrections of the official document register');
CREATE TRIGGER audit_insert AFTER INSERT ON odr_corrections REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION munigis_audit_rows('odr_correction');
REVOKE UPDATE, DELETE, TRUNCATE ON odr_corrections FROM munigis_app;
