// Package accounts keeps munigis's users, units, sessions, API tokens and
// access grants in PostGIS (migration 000005_accounts.sql).
//
//   - Passwords are hashed with argon2id (golang.org/x/crypto/argon2) and
//     stored as PHC strings, $argon2id$v=19$m=65536,t=2,p=2$salt$hash:
//     64 MiB of memory, 2 passes, 2 lanes, 16-byte salt, 32-byte key, the
//     second recommendation of RFC 9106 scaled to a 2-core server (about
//     0.1 s a hash). The parameters are read back from each stored string,
//     so changing DefaultHashParams keeps old passwords valid.
//   - Authenticate takes the same time for an unknown user as for a wrong
//     password (it verifies against a dummy hash) and answers both with
//     the same message. Failed attempts are rate-limited in memory per
//     username and per address (Limiter).
//   - A session is a random 32-byte cookie value; the database keeps only
//     its SHA-256, plus a CSRF token. Sessions end after an idle time
//     (default 8 h) or an absolute lifetime (default 24 h).
//   - An API token is "mgt_" followed by 32 random bytes in base64url; it is
//     shown once, the database keeps its SHA-256 and a display prefix.
//   - Grants give a role, a unit or one user read or edit access to a layer
//     or register (by name or '*'). ViewerFor resolves the grants that
//     apply to a user: those of its role, of itself, of its unit and the
//     units above it, and, for a unit head, everything held by the staff of
//     the unit and its sub-units (Art. 40 of the documents regulation).
//     Package access decides from them.
//
// Every change and every sign-in, failed sign-in and sign-out is recorded
// through the SQL function audit_record in the same transaction as the
// change. Password hashes never enter the audit trail.
package accounts
