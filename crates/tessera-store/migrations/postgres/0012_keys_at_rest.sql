-- Instance identity and keys at rest (#17 items 1 and 7).
-- The instance: one row, its id made at first start and kept.
create table instance (
    id bigint primary key check (id = 1),
    instance_id text not null,
    created_at bigint not null
);
-- The instance's signing keys. kid: the RFC 7638 thumbprint of the public JWK. public_key: the
-- JWK's x (unpadded base64url). private_key: sealed under the master key (never in the clear).
-- At most one is active; retired keys stay, so signatures made with them still verify.
create table signing_keys (
    seq bigint generated always as identity primary key,
    kid text not null unique,
    algorithm text not null,
    public_key text not null,
    private_key text not null,
    status text not null check (status in ('active', 'retired')),
    created_at bigint not null,
    retired_at bigint
);
create unique index signing_keys_one_active on signing_keys (status) where status = 'active';
