-- Issue 22: invitations wait for the invited person's consent, and a person
-- may belong to several organisations (a bookkeeper serving several clients).

CREATE TABLE invitations (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organisation_id uuid NOT NULL REFERENCES organisations (id) ON DELETE CASCADE,
    email           text NOT NULL,
    role            text NOT NULL CHECK (role IN ('owner', 'accountant', 'viewer')),
    token_hash      bytea NOT NULL UNIQUE,
    invited_by      uuid,
    created_at      timestamptz NOT NULL DEFAULT now(),
    expires_at      timestamptz NOT NULL,
    status          text NOT NULL DEFAULT 'pending'
                    CHECK (status IN ('pending', 'accepted', 'declined', 'revoked')),
    answered_at     timestamptz,
    answered_by     uuid
);
-- One open invitation per address and organisation.
CREATE UNIQUE INDEX invitations_open ON invitations (organisation_id, lower(email)) WHERE status = 'pending';
CREATE INDEX invitations_email ON invitations (lower(email)) WHERE status = 'pending';

-- The invitations of before (memberships without a user) become pending
-- invitations that nobody has been mailed; their invitee answers them in the
-- web app once the address is verified.
INSERT INTO invitations (organisation_id, email, role, token_hash, invited_by, created_at, expires_at)
SELECT organisation_id, email, role, sha256(convert_to(gen_random_uuid()::text || id::text, 'UTF8')),
       invited_by, created_at, now() + interval '14 days'
  FROM memberships WHERE user_id IS NULL;
DELETE FROM memberships WHERE user_id IS NULL;

-- A membership is a person in one organisation; one person, many organisations.
ALTER TABLE memberships ALTER COLUMN user_id SET NOT NULL;
ALTER TABLE memberships DROP CONSTRAINT memberships_user_id_key;
DROP INDEX memberships_email_lower;
CREATE UNIQUE INDEX memberships_organisation_user ON memberships (organisation_id, user_id);
CREATE INDEX memberships_user ON memberships (user_id);
