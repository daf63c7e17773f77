-- Peers (issue 17, item 2): the other instances this one has been told to trust, each pinned to
-- one of its keys. base_url: where its well-known documents were fetched. instance_id: the id its
-- /.well-known/tessera gave (one registration per instance). pin: the RFC 7638 thumbprint the
-- operator pinned. jwks: the peer's JWKS as last fetched and accepted (it listed the pinned key),
-- a JSON array of JWKs: the keys trusted for the peer. last_contact_at, failures, last_error: the
-- last successful fetch, the failures since, and the last one's message.
create table peers (
    seq integer primary key,
    id text not null unique,
    base_url text not null,
    instance_id text not null unique,
    pin text not null,
    jwks text not null,
    status text not null check (status in ('active', 'disabled')),
    created_at integer not null,
    last_contact_at integer,
    failures integer not null default 0,
    last_error text
);
