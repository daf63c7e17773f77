-- connect: connections, share tokens, and the job queue (outbox) that runs redemptions.

-- a connection lets the source organization share with the destination, in one environment
-- kind; it is seen by the source's and the destination's environment of that kind.
create table connections (
    seq integer primary key,
    id text not null unique,
    env_kind text not null check (env_kind in ('sandbox', 'production')),
    source_org text not null references organizations (id),
    source_env text not null references environments (id),
    destination_org text not null references organizations (id),
    destination_env text not null references environments (id),
    status text not null check (status in ('pending', 'active', 'inactive')),
    name text,
    creator_type text,
    creator_id text,
    created_at integer not null,
    updated_at integer not null,
    activated_at integer,
    deactivated_at integer
);
-- only one connection that is not inactive per (source, destination, environment kind).
create unique index connections_one_open on connections (source_org, destination_org, env_kind)
    where status <> 'inactive';
create index connections_by_source on connections (source_env, seq);
create index connections_by_destination on connections (destination_env, seq);

create table share_tokens (
    seq integer primary key,
    id text not null unique,
    connection_id text not null references connections (id),
    env_kind text not null,
    source_org text not null,
    source_env text not null references environments (id),
    destination_org text not null,
    destination_env text not null references environments (id),
    source_inquiry_id text not null references inquiries (id),
    status text not null check (status in ('created', 'pending', 'redeemed', 'expired', 'failed')),
    creator_type text,
    creator_id text,
    created_at integer not null,
    updated_at integer not null,
    pending_at integer,
    redeemed_at integer,
    expires_at integer not null,
    failed_at integer,
    failure_reason text,
    destination_inquiry_id text references inquiries (id),
    redeem_params text
);
create index share_tokens_by_source on share_tokens (source_env, seq);
create index share_tokens_by_destination on share_tokens (destination_env, seq);
create index share_tokens_by_connection on share_tokens (connection_id, seq);
-- the expiry sweep looks for created tokens past expires_at.
create index share_tokens_expiring on share_tokens (expires_at) where status = 'created';

-- background work, written in the transaction of the change that causes it. a worker claims a
-- due row with a lease (locked_until); a row whose worker died is claimed again after its lease.
-- a finished job's row is deleted by the unit of work that did the job.
create table jobs (
    seq integer primary key,
    id text not null unique,
    kind text not null,
    payload text not null,
    run_at integer not null,
    attempts integer not null default 0,
    locked_until integer,
    locked_by text,
    last_error text,
    dead_at integer,
    created_at integer not null
);
create index jobs_due on jobs (run_at) where dead_at is null;
