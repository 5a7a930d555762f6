-- The dossier (досие) of a register entry and the case files of a register
-- entry (issue 6: "its dossier: the documents that belong to it"; a
-- building permit's "case file once case files exist"), package registers
-- (dossier.go). Both are lists that only grow: a document leaves a dossier,
-- and a case file is unlinked, by a visible removal stamped here, never by
-- deleting the row, so the history of what an entry held stays (Art. 7(3)
-- of the documents regulation: what was done with a document is kept).
--
-- Runs after 000012 (documents) and 000013 (case_files). A register entry
-- that has a dossier or a case file can no longer be deleted (the foreign
-- keys have no ON DELETE): the documents stay tied to what they were about.

-- ---------------------------------------------------------------------------
-- The dossier. One row per inclusion of a document; a document may belong
-- to several entries (a sale contract in the dossier of each property it
-- sells) and come back after a removal, as a new row.
CREATE TABLE entry_documents (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    entry_id       bigint NOT NULL REFERENCES register_entries (id),
    document_id    bigint NOT NULL REFERENCES documents (id),
    added_at       timestamptz NOT NULL DEFAULT date_trunc('second', now()),
    added_by       text NOT NULL DEFAULT munigis_actor(),
    removed_at     timestamptz,
    removed_by     text,
    removal_reason text,
    CONSTRAINT entry_documents_removed CHECK ((removed_at IS NULL) = (removed_by IS NULL)
                                              AND (removed_at IS NULL) = (removal_reason IS NULL))
);
CREATE UNIQUE INDEX entry_documents_live ON entry_documents (entry_id, document_id) WHERE removed_at IS NULL;
CREATE INDEX entry_documents_entry ON entry_documents (entry_id, id);
CREATE INDEX entry_documents_document ON entry_documents (document_id);

-- Who added a document and when is stamped here, not by the caller, and
-- never corrected; the only change ever made to a row is its removal, once,
-- with a reason (stamped too).
CREATE FUNCTION munigis_entry_document_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        NEW.added_at := date_trunc('second', now());
        NEW.added_by := munigis_actor();
        NEW.removed_at := NULL;
        NEW.removed_by := NULL;
        NEW.removal_reason := NULL;
        RETURN NEW;
    END IF;
    IF OLD.removed_at IS NOT NULL OR NEW.removal_reason IS NULL OR btrim(NEW.removal_reason) = ''
       OR (NEW.id, NEW.entry_id, NEW.document_id, NEW.added_at, NEW.added_by)
          IS DISTINCT FROM (OLD.id, OLD.entry_id, OLD.document_id, OLD.added_at, OLD.added_by) THEN
        RAISE EXCEPTION USING ERRCODE = 'MG050',
            MESSAGE = 'a document in a dossier is never changed; it can only be removed once, with a reason';
    END IF;
    NEW.removed_at := date_trunc('second', now());
    NEW.removed_by := munigis_actor();
    RETURN NEW;
END $$;
CREATE TRIGGER guard BEFORE INSERT OR UPDATE ON entry_documents
    FOR EACH ROW EXECUTE FUNCTION munigis_entry_document_guard();
CREATE TRIGGER no_delete BEFORE DELETE ON entry_documents
    FOR EACH ROW EXECUTE FUNCTION munigis_forbid_change('documents of a dossier');
CREATE TRIGGER no_truncate BEFORE TRUNCATE ON entry_documents
    FOR EACH STATEMENT EXECUTE FUNCTION munigis_forbid_change('documents of a dossier');
CREATE TRIGGER audit_insert AFTER INSERT ON entry_documents REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION munigis_audit_rows('entry_document');
CREATE TRIGGER audit_update AFTER UPDATE ON entry_documents REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION munigis_audit_rows('entry_document');
REVOKE DELETE, TRUNCATE ON entry_documents FROM munigis_app;

-- ---------------------------------------------------------------------------
-- Case files of register entries: the case in which a building permit was
-- issued (or a property sold, a contract signed). Linked and unlinked,
-- never deleted, like the case files' links to the map (000013).
CREATE TABLE case_file_entries (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    case_file_id bigint NOT NULL REFERENCES case_files (id),
    entry_id     bigint NOT NULL REFERENCES register_entries (id),
    linked_at    timestamptz NOT NULL DEFAULT date_trunc('second', now()),
    linked_by    text NOT NULL DEFAULT munigis_actor(),
    unlinked_at  timestamptz,
    unlinked_by  text,
    CONSTRAINT case_file_entries_unlinked CHECK ((unlinked_at IS NULL) = (unlinked_by IS NULL))
);
CREATE UNIQUE INDEX case_file_entries_live ON case_file_entries (entry_id, case_file_id) WHERE unlinked_at IS NULL;
CREATE INDEX case_file_entries_case ON case_file_entries (case_file_id);

-- Stamped and guarded like the case files' links to the map (000013):
-- linked once, unlinked once, nothing else ever changes.
CREATE TRIGGER guard BEFORE INSERT OR UPDATE ON case_file_entries
    FOR EACH ROW EXECUTE FUNCTION munigis_case_link_guard('a link of a register entry to a case file');
CREATE TRIGGER no_delete BEFORE DELETE ON case_file_entries
    FOR EACH ROW EXECUTE FUNCTION munigis_forbid_change('links of register entries to case files');
CREATE TRIGGER no_truncate BEFORE TRUNCATE ON case_file_entries
    FOR EACH STATEMENT EXECUTE FUNCTION munigis_forbid_change('links of register entries to case files');
CREATE TRIGGER audit_insert AFTER INSERT ON case_file_entries REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION munigis_audit_rows('case_file_entry');
CREATE TRIGGER audit_update AFTER UPDATE ON case_file_entries REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION munigis_audit_rows('case_file_entry');
REVOKE DELETE, TRUNCATE ON case_file_entries FROM munigis_app;
