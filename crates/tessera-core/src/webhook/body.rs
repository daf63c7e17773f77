//! The document a delivery POSTs.

use serde_json::json;

use super::Webhook;
use crate::inflect::Inflection;

/// The document a webhook receives: `{"data": <event resource>}` in its inflection.
pub fn delivery_body(event: &crate::event::Event, inflection: Inflection) -> Vec<u8> {
    let doc = json!({ "data": event.to_resource().to_value() });
    serde_json::to_vec(&crate::inflect::inflect_document(doc, inflection)).unwrap_or_default()
}

/// The document one webhook receives: [`delivery_body`] after the webhook's payload settings
/// (relationship allowlist, attribute blocklist) are applied to the event's payload.
pub fn webhook_delivery_body(event: &crate::event::Event, webhook: &Webhook) -> Vec<u8> {
    let mut resource = event.to_resource().to_value();
    if let Some(payload) = resource.pointer_mut("/attributes/payload") {
        webhook.settings.shape_payload(payload);
    }
    let doc = json!({ "data": resource });
    serde_json::to_vec(&crate::inflect::inflect_document(doc, webhook.inflection))
        .unwrap_or_default()
}
