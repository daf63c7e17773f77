-- dashboard sessions. the cookie holds a random secret; only its sha-256 is kept, so a copy of the
-- database cannot be used to sign in. a session ends when it has been idle too long
-- (last_seen_at) or at expires_at, whichever comes first, or when its user signs out.
create table dashboard_sessions (
    seq bigint generated always as identity primary key,
    id text not null unique,
    secret_hash text not null unique,
    user_id text not null references users (id),
    organization_id text not null references organizations (id),
    -- the environment the dashboard shows; switched by the user.
    environment text not null check (environment in ('sandbox', 'production')),
    -- the per-session token every form of the dashboard must send back.
    csrf_token text not null,
    created_at bigint not null,
    last_seen_at bigint not null,
    expires_at bigint not null
);
create index dashboard_sessions_by_user on dashboard_sessions (user_id);
create index dashboard_sessions_by_last_seen on dashboard_sessions (last_seen_at);
