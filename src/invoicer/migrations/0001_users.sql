-- auth: accounts. E-mail addresses are unique regardless of case.
CREATE TABLE users (
    id            uuid PRIMARY KEY,
    email         text NOT NULL,
    password_hash text NOT NULL,
    roles         text[] NOT NULL DEFAULT ARRAY['user'],
    created_at    timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT users_roles_known CHECK (roles <@ ARRAY['user', 'admin'])
);
CREATE UNIQUE INDEX users_email_lower ON users (lower(email));
