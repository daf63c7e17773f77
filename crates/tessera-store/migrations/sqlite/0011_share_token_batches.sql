-- batches of share-token creations or redemptions (issue 18, item 4). A batch belongs to the
-- environment that made it; its items are written with it, in one unit of work, and processed by
-- its job (process_share_token_batch), each item in a unit of its own that calls the single-token
-- unit and records the item's outcome.
-- kind 'create': connection_id names the connection, each item's input_id a source (inq_/ver_)
-- and options its token's options (JSON). kind 'redeem': redeem_params (JSON) is what every
-- redemption asks for, each item's input_id a share token.
-- processed_at: when the job had processed every item.
create table share_token_batches (
    seq integer primary key,
    id text not null unique,
    organization_id text not null references organizations (id),
    environment_id text not null references environments (id),
    env_kind text not null,
    kind text not null check (kind in ('create', 'redeem')),
    connection_id text references connections (id),
    redeem_params text,
    creator_type text not null,
    creator_id text not null,
    total integer not null,
    created_at integer not null,
    processed_at integer
);
create index share_token_batches_by_environment on share_token_batches (environment_id, seq);

-- the items, inserted last index first, so that the lists' "newest first" (seq descending) is
-- index order. state: 'pending' (not processed), 'created' (its token made), 'started' (its
-- redemption started: the item's outcome is then its token's), 'failed' (refused, with the
-- single call's status, code and detail).
create table share_token_batch_items (
    seq integer primary key,
    id text not null unique,
    batch_id text not null references share_token_batches (id),
    idx integer not null,
    input_id text not null,
    options text,
    state text not null check (state in ('pending', 'created', 'started', 'failed')),
    share_token_id text references share_tokens (id),
    failure_status integer,
    failure_code text,
    failure_detail text,
    processed_at integer,
    unique (batch_id, idx)
);
create index share_token_batch_items_by_batch on share_token_batch_items (batch_id, seq);
