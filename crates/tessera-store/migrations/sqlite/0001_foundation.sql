-- tessera foundation schema (sqlite).
-- every table with a listing has `seq`, an insertion-ordered key used for "newest first" and
-- cursor pagination; `id` is the public, prefixed id. times are unix milliseconds. json is text.

create table organizations (
    seq integer primary key,
    id text not null unique,
    name text not null,
    created_at integer not null
);

-- each organization has exactly one sandbox and one production environment.
create table environments (
    id text primary key,
    organization_id text not null references organizations (id),
    kind text not null check (kind in ('sandbox', 'production')),
    created_at integer not null,
    unique (organization_id, kind)
);

-- only a sha-256 of each secret is kept.
create table api_keys (
    seq integer primary key,
    id text not null unique,
    organization_id text not null references organizations (id),
    environment_id text not null references environments (id),
    name text not null,
    secret_hash text not null unique,
    hint text not null,
    permissions text not null,
    created_at integer not null,
    expires_at integer
);
create index api_keys_by_environment on api_keys (environment_id, seq);

create table users (
    seq integer primary key,
    id text not null unique,
    organization_id text not null references organizations (id),
    email text not null unique,
    password_hash text not null,
    role text not null,
    created_at integer not null
);

-- the operator token's hash, when it was generated rather than configured.
create table operator_tokens (
    id integer primary key check (id = 1),
    token_hash text not null,
    created_at integer not null
);

create table inquiry_templates (
    seq integer primary key,
    id text not null unique,
    environment_id text not null references environments (id),
    name text not null,
    required_fields text not null,
    required_verifications text not null,
    minimum_age integer,
    allowed_countries text,
    created_at integer not null
);
create index inquiry_templates_by_environment on inquiry_templates (environment_id, seq);

create table inquiries (
    seq integer primary key,
    id text not null unique,
    environment_id text not null references environments (id),
    status text not null,
    template_id text references inquiry_templates (id),
    reference_id text,
    note text,
    tags text not null,
    fields text not null,
    created_at integer not null,
    updated_at integer not null,
    completed_at integer,
    decisioned_at integer,
    expired_at integer,
    redacted_at integer,
    shared_from text,
    share_token_id text
);
create index inquiries_by_environment on inquiries (environment_id, seq);
create index inquiries_by_status on inquiries (environment_id, status, seq);
create index inquiries_by_reference on inquiries (environment_id, reference_id, seq);
create index inquiries_by_template on inquiries (environment_id, template_id, seq);

create table verifications (
    seq integer primary key,
    id text not null unique,
    environment_id text not null references environments (id),
    inquiry_id text not null references inquiries (id),
    kind text not null,
    status text not null,
    checks text not null,
    attributes text not null,
    completed_at integer not null,
    created_at integer not null
);
create index verifications_by_inquiry on verifications (inquiry_id, seq);

-- document bytes live in the database: durable, transactional, copied with the redemption.
create table files (
    id text primary key,
    environment_id text not null references environments (id),
    bytes blob not null,
    created_at integer not null
);

create table documents (
    seq integer primary key,
    id text not null unique,
    environment_id text not null references environments (id),
    inquiry_id text not null references inquiries (id),
    kind text not null,
    filename text,
    content_type text not null,
    byte_size integer not null,
    sha256 text,
    file_id text references files (id),
    created_at integer not null
);
create index documents_by_inquiry on documents (inquiry_id, seq);

create table events (
    seq integer primary key,
    id text not null unique,
    environment_id text not null references environments (id),
    name text not null,
    object_type text not null,
    object_id text not null,
    payload text not null,
    created_at integer not null
);
create index events_by_environment on events (environment_id, seq);
create index events_by_name on events (environment_id, name, seq);
create index events_by_object on events (environment_id, object_id, seq);
create index events_by_time on events (created_at);

-- the stored first response of a request sent with an idempotency-key, per api key.
create table idempotency_keys (
    api_key_id text not null,
    key text not null,
    fingerprint text not null,
    state text not null check (state in ('running', 'done')),
    locked_until integer,
    status_code integer,
    content_type text,
    body blob,
    resource_id text,
    created_at integer not null,
    primary key (api_key_id, key)
);
create index idempotency_keys_by_resource on idempotency_keys (resource_id);
create index idempotency_keys_by_time on idempotency_keys (created_at);
