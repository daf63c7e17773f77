-- Federation (issue 17, items 3-5 and 8): organizations of peer instances, the messages
-- exchanged with peers, and the instance's record of its peers' health.

-- an organization whose home is another instance (a peer) has that instance's id here; it is a
-- stand-in for the remote side of a connection and its share tokens (no keys, no users). null for
-- the organizations of this instance.
alter table organizations add column home_instance text;

-- the nonces of signed messages received, kept while a message carrying them could still be
-- accepted (its signature window): a message whose nonce is here is a replay.
create table peer_nonces (
    instance_id text not null,
    nonce text not null,
    expires_at integer not null,
    primary key (instance_id, nonce)
);
create index peer_nonces_expiring on peer_nonces (expires_at);

-- the messages received from peers, by sender and message id, with the answer given: a message
-- sent again (a retry) gets the same answer and changes nothing.
create table peer_inbox (
    instance_id text not null,
    message_id text not null,
    kind text not null,
    response text not null,
    received_at integer not null,
    primary key (instance_id, message_id)
);
create index peer_inbox_by_time on peer_inbox (received_at);

-- federation events (peer.*): what happened between this instance and other instances, for the
-- operator (GET /admin/v1/peer-events); refused messages from unregistered instances included.
create table peer_events (
    seq integer primary key,
    id text not null unique,
    name text not null,
    instance_id text,
    peer_id text,
    payload text not null,
    created_at integer not null
);

-- the last clock skew seen of a peer (seconds, its signature time minus ours), and the messages
-- sent to it and received from it.
alter table peers add column clock_skew_seconds integer;
alter table peers add column messages_sent integer not null default 0;
alter table peers add column messages_received integer not null default 0;
