//! Units of work on webhooks: each runs the op of the same name in `crate::ops::webhooks`
//! (settings) or `crate::ops::webhook_deliveries` (deliveries and attempts) as one transaction.
//! The types they take and return are re-exported from there.

pub use crate::ops::webhook_deliveries::*;
pub use crate::ops::webhooks::*;

use crate::ops::webhook_deliveries as delivery_ops;
use crate::ops::webhooks as op;
use crate::paging::{Page, PageRequest};
use tessera_core::id::{DeliveryId, JobId, WebhookId};
use tessera_core::tenancy::Scope;
use tessera_core::webhook::{Delivery, DeliveryStatus, Webhook, WebhookStatus};

crate::work::units! { op;
    Write create(scope: Scope, new: NewWebhook) -> Webhook = create(&scope, new);
    Read get(scope: Scope, id: WebhookId) -> Webhook = get(&scope, &id);
    Read list(scope: Scope, page: PageRequest) -> Page<Webhook> = list(&scope, &page);
    Write update(scope: Scope, id: WebhookId, patch: WebhookPatch) -> Webhook = update(&scope, &id, patch);
    Write set_status(scope: Scope, id: WebhookId, to: WebhookStatus) -> Webhook = set_status(&scope, &id, to);
    Write rotate_secret(scope: Scope, id: WebhookId, secret: String, overlap_secs: i64) -> Webhook = rotate_secret(&scope, &id, secret, overlap_secs);
    Write clone(scope: Scope, id: WebhookId, secret: String) -> Webhook = clone(&scope, &id, secret);
}

crate::work::units! { delivery_ops;
    Read deliveries(scope: Scope, webhook: WebhookId, page: PageRequest) -> Page<Delivery> = deliveries(&scope, &webhook, &page);
    Read delivery(scope: Scope, id: DeliveryId) -> Delivery = delivery(&scope, &id);
    Write retry(scope: Scope, id: DeliveryId) -> Delivery = retry(&scope, &id);
    Read plan(id: DeliveryId) -> Option<AttemptPlan> = plan(&id);
    Write record_attempt(id: DeliveryId, job: JobId, result: AttemptResult) -> DeliveryStatus = record_attempt(&id, &job, &result);
    Write give_up(id: DeliveryId) -> () = give_up(&id);
}
