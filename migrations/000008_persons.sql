-- Persons and legal entities (лица): the parties of the registers (owners,
-- tenants, investors, holders of permits). One row per real person or
-- entity, so that every register entry of the same person points at the same
-- record: a person is never typed twice.
--
-- Identifiers (Наредба for documents, Art. 15): natural persons by ЕГН, or
-- ЛНЧ for foreigners, or else (a person not registered in Bulgaria) by name,
-- date and place of birth and the number of a passport or other identity
-- document (id_document); legal entities by ЕИК
-- (ЕИК/БУЛСТАТ, 9 digits, or 13 for a branch). The check digits are tested
-- here as well as in Go (registers/persons), so that a row written straight
-- in SQL obeys the same rules; Go refuses first with a message naming the
-- field, these CHECKs are the last line.

CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS btree_gist;

-- Lower case that does not depend on the database's locale for Bulgarian:
-- lower() lower-cases Cyrillic only under a UTF-8 ctype, so the Cyrillic
-- capitals are folded explicitly first. Go: persons.Fold.
CREATE FUNCTION munigis_fold(s text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT lower(translate(s, 'АБВГДЕЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЬЮЯЍЁЫЭ', 'абвгдежзийклмнопрстуфхцчшщъьюяѝёыэ'))
$$;

-- The official Bulgarian transliteration (Закон за транслитерацията, Art.
-- 4), in lower case: it serves search, where a clerk types "petrov" or
-- "Petrov" for Петров, so case carries no meaning (search_text is lower
-- case on both sides). The law's two exceptions: "ия" at the end of a word
-- is "ia" (Art. 5: София -> sofia), and the word България is "bulgaria"
-- (Art. 6; by the table it would be balgaria). A word is a run of letters
-- (а-я, ё, ѝ, a-z) and digits. ѝ is и, and ё, ы, э (not Bulgarian, found in
-- foreign names) become yo, y, e, so that no Cyrillic letter is left in the
-- Latin form. Go: persons.Translit gives the very same text (a test
-- compares both on a word list).
CREATE FUNCTION munigis_translit(s text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT translate(
        replace(replace(replace(replace(replace(replace(replace(replace(
            regexp_replace(regexp_replace(munigis_fold(s),
                '(?<![а-яёѝa-z0-9])българия(?![а-яёѝa-z0-9])', 'bulgaria', 'g'),
                'ия(?![а-яёѝa-z0-9])', 'ia', 'g'),
            'щ', 'sht'), 'ж', 'zh'), 'ц', 'ts'), 'ч', 'ch'), 'ш', 'sh'), 'ю', 'yu'), 'я', 'ya'), 'ё', 'yo'),
        'абвгдезийклмнопрстуфхъьѝыэ', 'abvgdeziyklmnoprstufhayiye')
$$;

-- ЕГН: YYMMDD, then 3 digits (region, sequence, sex), then a check digit:
-- the digits weighted 2,4,8,5,10,9,7,3,6, sum mod 11, 10 -> 0. The month is
-- +20 for births in the 1800s and +40 for the 2000s. The date must exist.
-- Go: persons.ValidateEGN.
CREATE FUNCTION munigis_egn_valid(e text) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    _w constant int[] := ARRAY[2, 4, 8, 5, 10, 9, 7, 3, 6];
    _s int := 0;
    _y int;
    _m int;
    _d int;
BEGIN
    IF e IS NULL THEN RETURN NULL; END IF;
    IF e !~ '^[0-9]{10}$' THEN RETURN false; END IF;
    FOR _i IN 1..9 LOOP
        _s := _s + substr(e, _i, 1)::int * _w[_i];
    END LOOP;
    IF _s % 11 % 10 <> substr(e, 10, 1)::int THEN RETURN false; END IF;
    _y := substr(e, 1, 2)::int;
    _m := substr(e, 3, 2)::int;
    _d := substr(e, 5, 2)::int;
    IF _m BETWEEN 41 AND 52 THEN _y := 2000 + _y; _m := _m - 40;
    ELSIF _m BETWEEN 21 AND 32 THEN _y := 1800 + _y; _m := _m - 20;
    ELSIF _m BETWEEN 1 AND 12 THEN _y := 1900 + _y;
    ELSE RETURN false;
    END IF;
    RETURN _d BETWEEN 1 AND extract(day FROM make_date(_y, _m, 1) + interval '1 month' - interval '1 day');
END $$;

-- ЛНЧ (личен номер на чужденец): 10 digits, the check digit is the sum of
-- the first nine weighted 21,19,17,13,11,9,7,3,1, mod 10. Go: persons.ValidateLNCH.
CREATE FUNCTION munigis_lnch_valid(e text) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    _w constant int[] := ARRAY[21, 19, 17, 13, 11, 9, 7, 3, 1];
    _s int := 0;
BEGIN
    IF e IS NULL THEN RETURN NULL; END IF;
    IF e !~ '^[0-9]{10}$' THEN RETURN false; END IF;
    FOR _i IN 1..9 LOOP
        _s := _s + substr(e, _i, 1)::int * _w[_i];
    END LOOP;
    RETURN _s % 10 = substr(e, 10, 1)::int;
END $$;

-- ЕИК/БУЛСТАТ (Закон за търговския регистър, Наредба for БУЛСТАТ): 9
-- digits, the 9th is sum(d_i * i, i = 1..8) mod 11, and if that is 10 then
-- sum(d_i * (i + 2)) mod 11, and if that is 10 again, 0. 13 digits (a
-- branch): the first 9 as above, the 13th from digits 9..12 weighted
-- 2,7,3,5, then 4,9,5,7, by the same rule. Go: persons.ValidateEIK.
CREATE FUNCTION munigis_eik_valid(e text) RETURNS boolean
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    _s int := 0;
    _c int;
BEGIN
    IF e IS NULL THEN RETURN NULL; END IF;
    IF e !~ '^([0-9]{9}|[0-9]{13})$' THEN RETURN false; END IF;
    FOR _i IN 1..8 LOOP
        _s := _s + substr(e, _i, 1)::int * _i;
    END LOOP;
    _c := _s % 11;
    IF _c = 10 THEN
        _s := 0;
        FOR _i IN 1..8 LOOP
            _s := _s + substr(e, _i, 1)::int * (_i + 2);
        END LOOP;
        _c := _s % 11 % 10;
    END IF;
    IF _c <> substr(e, 9, 1)::int THEN RETURN false; END IF;
    IF length(e) = 9 THEN RETURN true; END IF;
    _c := (2 * substr(e, 9, 1)::int + 7 * substr(e, 10, 1)::int + 3 * substr(e, 11, 1)::int
           + 5 * substr(e, 12, 1)::int) % 11;
    IF _c = 10 THEN
        _c := (4 * substr(e, 9, 1)::int + 9 * substr(e, 10, 1)::int + 5 * substr(e, 11, 1)::int
               + 7 * substr(e, 12, 1)::int) % 11 % 10;
    END IF;
    RETURN _c = substr(e, 13, 1)::int;
END $$;

CREATE TABLE persons (
    id          bigserial PRIMARY KEY,
    kind        text NOT NULL CONSTRAINT persons_kind CHECK (kind IN ('natural', 'legal')),
    -- Full name of a natural person ("Иван Петров Иванов"), or the entity's
    -- name with its legal form ("Община Троян", "Строй ЕООД").
    name        text NOT NULL CONSTRAINT persons_name CHECK (btrim(name) <> ''),
    egn         text UNIQUE CONSTRAINT persons_egn CHECK (munigis_egn_valid(egn)),
    lnch        text UNIQUE CONSTRAINT persons_lnch CHECK (munigis_lnch_valid(lnch)),
    birth_date  date,
    birth_place text,
    -- Passport or other identity document ("паспорт № 123456789, Германия")
    -- of a natural person without ЕГН or ЛНЧ (Art. 15(1)).
    id_document text,
    eik         text UNIQUE CONSTRAINT persons_eik CHECK (munigis_eik_valid(eik)),
    address     text,
    email       text CONSTRAINT persons_email CHECK (email ~ '^[^@[:space:]]+@[^@[:space:]]+$'),
    phone       text CONSTRAINT persons_phone CHECK (phone ~ '^\+?[0-9][0-9 ()/.-]{2,39}$'),
    -- munigis_fold(name) and munigis_translit(name), for trigram search in
    -- either script; set by the stamp trigger, never by hand.
    search_text text NOT NULL DEFAULT '',
    version     integer NOT NULL DEFAULT 1,
    created_at  timestamptz NOT NULL DEFAULT date_trunc('second', now()),
    created_by  text NOT NULL DEFAULT munigis_actor(),
    updated_at  timestamptz NOT NULL DEFAULT date_trunc('second', now()),
    updated_by  text NOT NULL DEFAULT munigis_actor(),
    -- A natural person is identified by ЕГН, ЛНЧ or at least a birth date
    -- (with the name); personal identifiers belong to natural persons only,
    -- the ЕИК to legal ones (a sole trader, ЕТ, is registered as the entity).
    CONSTRAINT persons_natural_identified CHECK (kind <> 'natural'
        OR egn IS NOT NULL OR lnch IS NOT NULL OR birth_date IS NOT NULL),
    CONSTRAINT persons_natural_no_eik CHECK (kind <> 'natural' OR eik IS NULL),
    CONSTRAINT persons_legal_no_personal CHECK (kind <> 'legal'
        OR (egn IS NULL AND lnch IS NULL AND birth_date IS NULL AND birth_place IS NULL AND id_document IS NULL))
);

-- The same natural person without ЕГН/ЛНЧ is the same name and birth date.
CREATE UNIQUE INDEX persons_natural_name_birth ON persons (munigis_fold(name), birth_date)
    WHERE kind = 'natural' AND egn IS NULL AND lnch IS NULL;
CREATE INDEX persons_search ON persons USING gin (search_text gin_trgm_ops);

-- Earlier versions of each person, written by a trigger on every change or
-- deletion: the current row is the latest version, this table the rest.
CREATE TABLE person_versions (
    person_id   bigint NOT NULL,
    version     integer NOT NULL,
    kind        text NOT NULL,
    name        text NOT NULL,
    egn         text,
    lnch        text,
    birth_date  date,
    birth_place text,
    id_document text,
    eik         text,
    address     text,
    email       text,
    phone       text,
    valid_from  timestamptz NOT NULL,
    created_by  text NOT NULL,
    valid_to    timestamptz NOT NULL,
    ended_by    text NOT NULL,
    ended_how   text NOT NULL CHECK (ended_how IN ('update', 'delete')),
    PRIMARY KEY (person_id, version)
);

-- Stamps version and who/when like munigis_feature_stamp, tidies the name
-- (spaces) and derives search_text.
CREATE FUNCTION munigis_person_stamp() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.name := regexp_replace(btrim(NEW.name), '\s+', ' ', 'g');
    NEW.search_text := munigis_fold(NEW.name) || ' ' || munigis_translit(NEW.name);
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

CREATE FUNCTION munigis_person_history() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO person_versions (person_id, version, kind, name, egn, lnch, birth_date, birth_place, id_document, eik,
                                 address, email, phone, valid_from, created_by, valid_to, ended_by, ended_how)
    VALUES (OLD.id, OLD.version, OLD.kind, OLD.name, OLD.egn, OLD.lnch, OLD.birth_date, OLD.birth_place, OLD.id_document, OLD.eik,
            OLD.address, OLD.email, OLD.phone, OLD.updated_at, OLD.updated_by,
            date_trunc('second', now()), munigis_actor(), lower(TG_OP));
    RETURN NULL;
END $$;

CREATE TRIGGER stamp BEFORE INSERT OR UPDATE ON persons
    FOR EACH ROW EXECUTE FUNCTION munigis_person_stamp();
CREATE TRIGGER history AFTER UPDATE OR DELETE ON persons
    FOR EACH ROW EXECUTE FUNCTION munigis_person_history();

CREATE FUNCTION munigis_person_forbid_truncate() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = 'MG002',
        MESSAGE = format('%s cannot be truncated: it would lose the history of persons; use DELETE', TG_TABLE_NAME);
END $$;
CREATE TRIGGER no_truncate BEFORE TRUNCATE ON persons
    FOR EACH STATEMENT EXECUTE FUNCTION munigis_person_forbid_truncate();
CREATE TRIGGER no_truncate BEFORE TRUNCATE ON person_versions
    FOR EACH STATEMENT EXECUTE FUNCTION munigis_person_forbid_truncate();

-- The audit trail: one row per created, changed (also an ЕГН/ЕИК
-- correction) or deleted person, object person:<id>, with the values before
-- and after (search_text left out: derived). Per statement with transition
-- tables like munigis_feature_audit (000007), and like it every name of its
-- own starts with "_" so that no column can collide with it.
CREATE FUNCTION munigis_person_audit() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    _address text := nullif(current_setting('munigis.address', true), '');
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO audit_log (action, object, after, address)
        SELECT 'person.create', 'person:' || _r.id, to_jsonb(_r) - 'search_text', _address
        FROM new_rows _r ORDER BY _r.id;
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO audit_log (action, object, before, after, address)
        SELECT 'person.update', 'person:' || _n.id, to_jsonb(_o) - 'search_text', to_jsonb(_n) - 'search_text', _address
        FROM new_rows _n JOIN old_rows _o ON _o.id = _n.id ORDER BY _n.id;
    ELSE
        INSERT INTO audit_log (action, object, before, address)
        SELECT 'person.delete', 'person:' || _r.id, to_jsonb(_r) - 'search_text', _address
        FROM old_rows _r ORDER BY _r.id;
    END IF;
    RETURN NULL;
END $$;

CREATE TRIGGER audit_insert AFTER INSERT ON persons REFERENCING NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION munigis_person_audit();
CREATE TRIGGER audit_update AFTER UPDATE ON persons REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION munigis_person_audit();
CREATE TRIGGER audit_delete AFTER DELETE ON persons REFERENCING OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION munigis_person_audit();

-- The application reads and writes persons (default privileges of 000004);
-- the history it may only read and, through the trigger, append to.
REVOKE UPDATE, DELETE ON person_versions FROM munigis_app;
