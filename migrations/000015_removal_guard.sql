-- One guard for the lists that only grow (Art. 47 of the documents
-- regulation; Art. 7(3): what was done with a document is kept): the
-- documents of a case file's sections (000013) and of a register entry's
-- dossier (000014). Their rows are never deleted and never corrected; who
-- included a row and when is stamped here, not by the caller, and the only
-- change ever made is its removal, once, with a reason (stamped too).
-- 000013 and 000014 each wrote this rule for their own columns; here it is
-- written once, as the case files' link guard already is, comparing the
-- whole row but its removal.

-- munigis_removal_guard(prefix, errcode, message[, hint]): a BEFORE INSERT
-- OR UPDATE row trigger for a table with columns <prefix>_at, <prefix>_by,
-- removed_at, removed_by and removal_reason. A refused change raises
-- errcode (an MG code, shown to the user by internal/postgis.Translate)
-- with message and hint.
CREATE FUNCTION munigis_removal_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        -- The stamp columns are named by the trigger's argument; a record's
        -- field cannot be assigned by a name held in a variable, so the
        -- row is rebuilt with them set.
        NEW := jsonb_populate_record(NEW, jsonb_build_object(
            TG_ARGV[0] || '_at', date_trunc('second', now()),
            TG_ARGV[0] || '_by', munigis_actor(),
            'removed_at', NULL, 'removed_by', NULL, 'removal_reason', NULL));
        RETURN NEW;
    END IF;
    IF OLD.removed_at IS NOT NULL OR NEW.removal_reason IS NULL OR btrim(NEW.removal_reason) = ''
       OR to_jsonb(NEW) - 'removed_at' - 'removed_by' - 'removal_reason'
          IS DISTINCT FROM to_jsonb(OLD) - 'removed_at' - 'removed_by' - 'removal_reason' THEN
        RAISE EXCEPTION USING ERRCODE = TG_ARGV[1], MESSAGE = TG_ARGV[2], HINT = coalesce(TG_ARGV[3], '');
    END IF;
    NEW.removed_at := date_trunc('second', now());
    NEW.removed_by := munigis_actor();
    RETURN NEW;
END $$;

-- What only case file items have: a control item is the very document
-- removed from the official section of the same case (Art. 45(3)).
CREATE FUNCTION munigis_case_item_moved() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.moved_from IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM case_file_items _f
            WHERE _f.id = NEW.moved_from AND _f.case_file_id = NEW.case_file_id AND _f.section = 'official'
              AND _f.removed_at IS NOT NULL AND _f.document_id IS NOT DISTINCT FROM NEW.document_id
              AND _f.child_case_id IS NOT DISTINCT FROM NEW.child_case_id) THEN
        RAISE EXCEPTION USING ERRCODE = 'MG041',
            MESSAGE = 'the control section only receives what was removed from the same case''s official section';
    END IF;
    RETURN NEW;
END $$;

DROP TRIGGER guard ON case_file_items;
CREATE TRIGGER guard BEFORE INSERT OR UPDATE ON case_file_items
    FOR EACH ROW EXECUTE FUNCTION munigis_removal_guard('included', 'MG041',
        'an inclusion in a case file section is never changed; it can only be removed once, with a reason',
        'Art. 47 of the documents regulation');
CREATE TRIGGER moved_from BEFORE INSERT ON case_file_items
    FOR EACH ROW EXECUTE FUNCTION munigis_case_item_moved();
DROP FUNCTION munigis_case_item_guard();

DROP TRIGGER guard ON entry_documents;
CREATE TRIGGER guard BEFORE INSERT OR UPDATE ON entry_documents
    FOR EACH ROW EXECUTE FUNCTION munigis_removal_guard('added', 'MG050',
        'a document in a dossier is never changed; it can only be removed once, with a reason');
DROP FUNCTION munigis_entry_document_guard();
