-- webhooks and the log of their deliveries.

-- the signing secret is kept as is: an hmac needs it on both sides. the rotated-out secret keeps
-- signing until previous_secret_until.
create table webhooks (
    seq bigint generated always as identity primary key,
    id text not null unique,
    environment_id text not null references environments (id),
    url text not null,
    status text not null check (status in ('enabled', 'disabled', 'archived')),
    enabled_events text not null,
    inflection text not null,
    secret text not null,
    previous_secret text,
    previous_secret_until bigint,
    created_at bigint not null,
    updated_at bigint not null
);
create index webhooks_by_environment on webhooks (environment_id, seq);

-- one row per (event, webhook), made in the event's transaction.
create table webhook_deliveries (
    seq bigint generated always as identity primary key,
    id text not null unique,
    environment_id text not null references environments (id),
    webhook_id text not null references webhooks (id),
    event_id text not null references events (id),
    event_name text not null,
    status text not null check (status in ('pending', 'succeeded', 'failed', 'canceled')),
    attempts_made bigint not null default 0,
    max_attempts bigint not null,
    next_attempt_at bigint,
    first_attempted_at bigint,
    created_at bigint not null,
    updated_at bigint not null
);
create index webhook_deliveries_by_webhook on webhook_deliveries (webhook_id, seq);
create index webhook_deliveries_pending on webhook_deliveries (webhook_id) where status = 'pending';

create table webhook_attempts (
    seq bigint generated always as identity primary key,
    delivery_id text not null references webhook_deliveries (id),
    attempt bigint not null,
    started_at bigint not null,
    duration_ms bigint not null,
    response_status bigint,
    error text,
    response_body text
);
create index webhook_attempts_by_delivery on webhook_attempts (delivery_id, seq);
