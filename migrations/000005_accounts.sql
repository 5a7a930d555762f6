-- Users, units, roles, sessions, API tokens and access grants (issue 3).
--
-- The user record carries the fields of Art. 12 of the documents
-- regulation: names, a system identifier generated here, the position
-- (administrative body, job title and unit, or a civil contract), username
-- and password (an argon2id PHC string, never the password).
--
-- Access is granted to a subject (a role, a unit or one user) on an object
-- (a layer or a register, by name or '*') with a permission (read, or edit,
-- which implies read). A grant is never deleted: revoking it stamps
-- revoked_at/by, so who granted what and when stays on record (Art. 18(3)).
-- Registers (issue 6) reuse this table with object_kind 'register'.
-- Package access decides from the resolved grants; package accounts
-- resolves them, including a unit head's inheritance (Art. 40).

CREATE TABLE roles (
    name     text PRIMARY KEY,
    title_bg text NOT NULL,
    title_en text NOT NULL
);

INSERT INTO roles (name, title_bg, title_en) VALUES
    ('admin', 'Администратор', 'Administrator'),
    ('planner', 'Специалист по устройство на територията', 'Planner'),
    ('clerk', 'Служител', 'Clerk'),
    ('inspector', 'Инспектор', 'Inspector');

-- Administrative units (дирекции, отдели, сектори); parent_id makes the
-- tree, head_user_id names the unit head (Art. 40).
CREATE TABLE units (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name_bg      text NOT NULL CHECK (btrim(name_bg) <> ''),
    name_en      text NOT NULL DEFAULT '',
    parent_id    bigint REFERENCES units (id),
    head_user_id bigint,
    created_at   timestamptz NOT NULL DEFAULT date_trunc('second', now()),
    created_by   text NOT NULL DEFAULT coalesce(nullif(current_setting('munigis.actor', true), ''), 'db:' || current_user),
    CHECK (parent_id IS DISTINCT FROM id)
);
CREATE UNIQUE INDEX units_name_bg_key ON units (lower(name_bg));

-- The system identifier of Art. 12 p. 4: U-000001, U-000002, ... never reused.
CREATE SEQUENCE user_system_id_seq;

CREATE TABLE users (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    system_id      text NOT NULL UNIQUE DEFAULT 'U-' || lpad(nextval('user_system_id_seq')::text, 6, '0'),
    first_name     text NOT NULL CHECK (btrim(first_name) <> ''),
    patronymic     text NOT NULL DEFAULT '',
    surname        text NOT NULL CHECK (btrim(surname) <> ''),
    -- Position (Art. 12 p. 5): the administrative body, the job title and
    -- unit, or the civil-contract flag.
    admin_body     text NOT NULL DEFAULT '',
    job_title      text NOT NULL DEFAULT '',
    unit_id        bigint REFERENCES units (id),
    civil_contract boolean NOT NULL DEFAULT false,
    username       text NOT NULL CHECK (username ~ '^[A-Za-z0-9][A-Za-z0-9._-]{1,63}$'),
    password_hash  text NOT NULL CHECK (password_hash LIKE '$argon2id$%'),
    role           text NOT NULL REFERENCES roles (name),
    disabled_at    timestamptz,
    disabled_by    text,
    created_at     timestamptz NOT NULL DEFAULT date_trunc('second', now()),
    created_by     text NOT NULL,
    updated_at     timestamptz,
    updated_by     text,
    CONSTRAINT users_position CHECK (civil_contract OR (btrim(admin_body) <> '' AND btrim(job_title) <> ''))
);
-- Usernames are unique whatever their case: "Ivan" and "ivan" are one user.
CREATE UNIQUE INDEX users_username_key ON users (lower(username));
CREATE INDEX users_unit_id ON users (unit_id);

ALTER TABLE units ADD CONSTRAINT units_head_user_id_fkey FOREIGN KEY (head_user_id) REFERENCES users (id);
CREATE INDEX units_head_user_id ON units (head_user_id);
CREATE INDEX units_parent_id ON units (parent_id);

-- A browser session. id is the SHA-256 of the random cookie value: the raw
-- value is only ever in the user's browser.
CREATE TABLE sessions (
    id           bytea PRIMARY KEY CHECK (length(id) = 32),
    user_id      bigint NOT NULL REFERENCES users (id),
    csrf_token   text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    address      text NOT NULL DEFAULT '',
    user_agent   text NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user_id ON sessions (user_id);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

-- API tokens for machines and devices. token_hash is the SHA-256 of the
-- raw token, which is shown once; prefix (its first characters) lets people
-- tell their tokens apart.
CREATE TABLE api_tokens (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id      bigint NOT NULL REFERENCES users (id),
    name         text NOT NULL CHECK (btrim(name) <> '' AND length(name) <= 200),
    token_hash   bytea NOT NULL UNIQUE CHECK (length(token_hash) = 32),
    prefix       text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT date_trunc('second', now()),
    created_by   text NOT NULL,
    last_used_at timestamptz,
    revoked_at   timestamptz,
    revoked_by   text,
    CHECK ((revoked_at IS NULL) = (revoked_by IS NULL))
);
CREATE INDEX api_tokens_user_id ON api_tokens (user_id);

-- subject: a role name (subject_kind 'role'), a unit id ('unit') or a
-- user's system identifier ('user').
CREATE TABLE grants (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    subject_kind text NOT NULL CHECK (subject_kind IN ('role', 'unit', 'user')),
    subject      text NOT NULL CHECK (subject <> ''),
    object_kind  text NOT NULL CHECK (object_kind IN ('layer', 'register')),
    object       text NOT NULL CHECK (object = '*' OR object ~ '^[a-z][a-z0-9_]{0,47}$'),
    permission   text NOT NULL CHECK (permission IN ('read', 'edit')),
    granted_by   text NOT NULL,
    granted_at   timestamptz NOT NULL DEFAULT date_trunc('second', now()),
    revoked_at   timestamptz,
    revoked_by   text,
    CHECK ((revoked_at IS NULL) = (revoked_by IS NULL)),
    CHECK (subject_kind <> 'unit' OR subject ~ '^[1-9][0-9]*$')
);
-- One live grant per subject, object and permission.
CREATE UNIQUE INDEX grants_live_key ON grants (subject_kind, subject, object_kind, object, permission)
    WHERE revoked_at IS NULL;

-- Default grants. Admin may do everything; that is decided in code
-- (package access), not by grants, so it cannot be revoked by mistake.
INSERT INTO grants (subject_kind, subject, object_kind, object, permission, granted_by) VALUES
    ('role', 'planner', 'layer', '*', 'read', 'system:migration'),
    ('role', 'planner', 'layer', '*', 'edit', 'system:migration'),
    ('role', 'clerk', 'layer', '*', 'read', 'system:migration'),
    ('role', 'inspector', 'layer', '*', 'read', 'system:migration');
