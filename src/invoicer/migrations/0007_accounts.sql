-- auth: verified e-mail addresses, single-use tokens of mailed links,
-- server-side sessions (sign-out ends them), and the account mails sent.
ALTER TABLE users ADD COLUMN email_verified_at timestamptz;

-- A token of a mailed link (verify_email: 48 h, password_reset: 1 h): only its
-- SHA-256 is stored; used_at spends it.
CREATE TABLE account_tokens (
    token_hash bytea PRIMARY KEY,
    purpose    text NOT NULL CHECK (purpose IN ('verify_email', 'password_reset')),
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    email      text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);
CREATE INDEX account_tokens_user ON account_tokens (user_id, purpose);

-- A sign-in: every JWT carries its id (claim sid) and is refused once the
-- session is revoked (sign-out, password reset) or past expires_at (the
-- absolute limit of sliding renewal).
CREATE TABLE sessions (
    id         uuid PRIMARY KEY,
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL,
    revoked_at timestamptz
);
CREATE INDEX sessions_user ON sessions (user_id);

-- notification: account mails (account.mail commands) delivered; the command
-- id keeps a redelivered command from mailing twice.
CREATE TABLE account_mails (
    command_id uuid PRIMARY KEY,
    kind       text NOT NULL,
    sent_at    timestamptz NOT NULL DEFAULT now()
);
