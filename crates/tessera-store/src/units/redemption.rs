//! Units of work on redemption: each runs the op of the same name in `crate::ops::redemption` as one
//! transaction. The types they take and return are re-exported from there.

pub use crate::ops::redemption::*;

use crate::ops::redemption as op;
use tessera_core::id::ShareTokenId;

crate::work::units! { op;
    Write run(token_id: ShareTokenId) -> Outcome = run(&token_id);
    Write give_up(token_id: ShareTokenId) -> () = give_up(&token_id);
}
