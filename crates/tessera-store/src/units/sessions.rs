//! Units of work on sessions: each runs the op of the same name in `crate::ops::sessions` as one
//! transaction. The types they take and return are re-exported from there.

pub use crate::ops::sessions::*;

use crate::ops::sessions as op;
use crate::ops::tenancy::User;
use tessera_core::id::SessionId;
use tessera_core::tenancy::EnvKind;

crate::work::units! { op;
    Write create(user: User, secret_hash: String, csrf_token: String, lifetimes: Lifetimes) -> SessionId = create(&user, secret_hash, csrf_token, lifetimes);
    Read find(secret_hash: String, lifetimes: Lifetimes) -> Option<Session> = find(&secret_hash, lifetimes);
    Write touch(id: SessionId) -> () = touch(&id);
    Write set_environment(id: SessionId, kind: EnvKind) -> () = set_environment(&id, kind);
    Write delete(id: SessionId) -> () = delete(&id);
    Write purge(lifetimes: Lifetimes) -> u64 = purge(lifetimes);
}
