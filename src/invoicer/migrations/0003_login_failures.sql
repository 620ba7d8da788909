-- auth: failed logins, counted per account and per client address within a
-- window to answer brute force with 429 (see invoicer.auth.throttle).
CREATE TABLE login_failures (
    key       text NOT NULL,
    failed_at timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX login_failures_key_time ON login_failures (key, failed_at);
