//! Webhooks: their settings (create, update, enable/disable/archive, secret rotation, clone).
//! Their deliveries and the attempt log are `crate::ops::webhook_deliveries`.

use tessera_core::id::WebhookId;
use tessera_core::inflect::Inflection;
use tessera_core::tenancy::Scope;
use tessera_core::webhook::{
    MAX_WEBHOOKS_PER_ENVIRONMENT, Webhook, WebhookSettings, WebhookStatus,
};
use tessera_core::{Error, codes};

use crate::args;
use crate::ops::scoped::{IN_ENVIRONMENT, Table};
use crate::ops::sealed::{WEBHOOK_PREVIOUS_SECRET, WEBHOOK_SECRET};
use crate::paging::{Filter, Page, PageRequest, fetch_page};
use crate::tx::{Row, Tx, json as json_arg};

const COLUMNS: &str = "id, url, status, enabled_events, inflection, secret, previous_secret, previous_secret_until, created_at, updated_at, name, description, api_version, api_attributes_blocklist, file_access_token_expires_in, payload_filter, included_allowlist, relationship_allowlist, custom_http_headers";

fn settings_from_row(r: &Row) -> Result<WebhookSettings, Error> {
    Ok(WebhookSettings {
        name: r.opt_text("name")?,
        description: r.opt_text("description")?,
        api_version: r.text("api_version")?,
        attributes_blocklist: r.json("api_attributes_blocklist")?,
        file_access_token_expires_in: r.i64("file_access_token_expires_in")?,
        payload_filter: r.opt_json("payload_filter")?,
        included_allowlist: r.opt_json("included_allowlist")?,
        relationship_allowlist: r.json("relationship_allowlist")?,
        custom_http_headers: r.json("custom_http_headers")?,
    })
}

fn opt_json(v: Option<&serde_json::Value>) -> Option<String> {
    v.map(serde_json::Value::to_string)
}

fn from_row(r: &Row) -> Result<Webhook, Error> {
    let id = r.text("id")?;
    let previous = match (
        r.opt_sealed_text("previous_secret", &WEBHOOK_PREVIOUS_SECRET.purpose(&id))?,
        r.opt_time("previous_secret_until")?,
    ) {
        (Some(s), Some(t)) => Some((s, t)),
        _ => None,
    };
    Ok(Webhook {
        secret: r.sealed_text("secret", &WEBHOOK_SECRET.purpose(&id))?,
        id: WebhookId::from_db(id),
        url: r.text("url")?,
        status: WebhookStatus::parse(&r.text("status")?)
            .ok_or_else(|| Error::internal(std::io::Error::other("unknown webhook status")))?,
        enabled_events: r.json("enabled_events")?,
        inflection: Inflection::parse(&r.text("inflection")?).unwrap_or_default(),
        settings: settings_from_row(r)?,
        previous_secret: previous,
        created_at: r.time("created_at")?,
        updated_at: r.time("updated_at")?,
    })
}

/// What a new webhook is.
#[derive(Debug, Clone)]
pub struct NewWebhook {
    pub url: String,
    pub enabled_events: Vec<String>,
    pub inflection: Inflection,
    pub settings: WebhookSettings,
    pub secret: String,
}

pub(crate) async fn create(tx: &mut Tx, scope: &Scope, new: NewWebhook) -> Result<Webhook, Error> {
    crate::ops::lock_environment(tx, scope).await?;
    let row = tx
        .fetch_one(
            "select count(*) as n from webhooks where environment_id = $1 and status <> 'archived'",
            args![&scope.env],
        )
        .await?;
    if row.i64("n")? >= MAX_WEBHOOKS_PER_ENVIRONMENT {
        return Err(Error::invalid(
            codes::WEBHOOK_LIMIT,
            format!(
                "an environment has at most {MAX_WEBHOOKS_PER_ENVIRONMENT} webhooks that are not archived"
            ),
        ));
    }
    let now = tx.now();
    let w = Webhook {
        id: WebhookId::generate(),
        url: new.url,
        status: WebhookStatus::Enabled,
        enabled_events: new.enabled_events,
        inflection: new.inflection,
        settings: new.settings,
        secret: new.secret,
        previous_secret: None,
        created_at: now,
        updated_at: now,
    };
    tx.execute(
        &format!("insert into webhooks ({COLUMNS}, environment_id) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20)"),
        args![
            &w.id,
            &w.url,
            w.status.as_str(),
            json_arg(&w.enabled_events),
            w.inflection.as_str(),
            tx.seal(&WEBHOOK_SECRET.purpose(w.id.as_str()), &w.secret),
            crate::Arg::NullText,
            crate::Arg::NullInt,
            w.created_at,
            w.updated_at,
            w.settings.name.clone(),
            w.settings.description.clone(),
            w.settings.api_version.as_str(),
            json_arg(&w.settings.attributes_blocklist),
            w.settings.file_access_token_expires_in,
            opt_json(w.settings.payload_filter.as_ref()),
            opt_json(w.settings.included_allowlist.as_ref()),
            json_arg(&w.settings.relationship_allowlist),
            json_arg(&w.settings.custom_http_headers),
            &scope.env
        ],
    )
    .await?;
    Ok(w)
}

/// Where webhooks are stored, for the scoped fetch.
const WEBHOOKS: Table<Webhook> = Table {
    table: "webhooks",
    columns: COLUMNS,
    visible: IN_ENVIRONMENT,
    noun: "webhook",
    from_row,
};

pub(crate) async fn get(tx: &mut Tx, scope: &Scope, id: &WebhookId) -> Result<Webhook, Error> {
    WEBHOOKS.get(tx, scope, id).await
}

pub(crate) async fn list(
    tx: &mut Tx,
    scope: &Scope,
    page: &PageRequest,
) -> Result<Page<Webhook>, Error> {
    fetch_page(
        tx,
        "webhooks",
        COLUMNS,
        Filter::new().and("environment_id = ?", &scope.env),
        page,
    )
    .await?
    .try_map(|r| from_row(&r))
}

fn refuse_archived(w: &Webhook) -> Result<(), Error> {
    if w.status == WebhookStatus::Archived {
        return Err(Error::conflict(
            codes::INVALID_STATUS_TRANSITION,
            "an archived webhook cannot change",
        ));
    }
    Ok(())
}

async fn save(tx: &mut Tx, w: &Webhook) -> Result<(), Error> {
    tx.execute(
        "update webhooks set url = $1, status = $2, enabled_events = $3, inflection = $4, secret = $5,
         previous_secret = $6, previous_secret_until = $7, updated_at = $8, name = $9, description = $10,
         api_version = $11, api_attributes_blocklist = $12, file_access_token_expires_in = $13,
         payload_filter = $14, included_allowlist = $15, relationship_allowlist = $16,
         custom_http_headers = $17 where id = $18",
        args![
            &w.url,
            w.status.as_str(),
            json_arg(&w.enabled_events),
            w.inflection.as_str(),
            tx.seal(&WEBHOOK_SECRET.purpose(w.id.as_str()), &w.secret),
            w.previous_secret
                .as_ref()
                .map(|(s, _)| tx.seal(&WEBHOOK_PREVIOUS_SECRET.purpose(w.id.as_str()), s)),
            w.previous_secret.as_ref().map(|(_, t)| *t),
            w.updated_at,
            w.settings.name.clone(),
            w.settings.description.clone(),
            w.settings.api_version.as_str(),
            json_arg(&w.settings.attributes_blocklist),
            w.settings.file_access_token_expires_in,
            opt_json(w.settings.payload_filter.as_ref()),
            opt_json(w.settings.included_allowlist.as_ref()),
            json_arg(&w.settings.relationship_allowlist),
            json_arg(&w.settings.custom_http_headers),
            &w.id
        ],
    )
    .await?;
    Ok(())
}

/// A change to a webhook; `None` leaves a part as it is (`Some(None)` clears a nullable one).
#[derive(Debug, Clone, Default)]
pub struct WebhookPatch {
    pub url: Option<String>,
    pub enabled_events: Option<Vec<String>>,
    pub inflection: Option<Inflection>,
    pub name: Option<String>,
    pub description: Option<Option<String>>,
    pub api_version: Option<String>,
    pub attributes_blocklist: Option<Vec<String>>,
    pub file_access_token_expires_in: Option<i64>,
    pub payload_filter: Option<Option<serde_json::Value>>,
    pub included_allowlist: Option<Option<serde_json::Value>>,
    pub relationship_allowlist: Option<serde_json::Value>,
    pub custom_http_headers: Option<std::collections::BTreeMap<String, String>>,
}

pub(crate) async fn update(
    tx: &mut Tx,
    scope: &Scope,
    id: &WebhookId,
    patch: WebhookPatch,
) -> Result<Webhook, Error> {
    let mut w = WEBHOOKS.get_for_update(tx, scope, id).await?;
    refuse_archived(&w)?;
    if let Some(url) = patch.url {
        w.url = url;
    }
    if let Some(events) = patch.enabled_events {
        w.enabled_events = events;
    }
    if let Some(i) = patch.inflection {
        w.inflection = i;
    }
    let st = &mut w.settings;
    if let Some(v) = patch.name {
        st.name = Some(v);
    }
    if let Some(v) = patch.description {
        st.description = v;
    }
    if let Some(v) = patch.api_version {
        st.api_version = v;
    }
    if let Some(v) = patch.attributes_blocklist {
        st.attributes_blocklist = v;
    }
    if let Some(v) = patch.file_access_token_expires_in {
        st.file_access_token_expires_in = v;
    }
    if let Some(v) = patch.payload_filter {
        st.payload_filter = v;
    }
    if let Some(v) = patch.included_allowlist {
        st.included_allowlist = v;
    }
    if let Some(v) = patch.relationship_allowlist {
        st.relationship_allowlist = v;
    }
    if let Some(v) = patch.custom_http_headers {
        st.custom_http_headers = v;
    }
    w.updated_at = tx.now();
    save(tx, &w).await?;
    Ok(w)
}

/// Enables, disables or archives. Disabling or archiving cancels the pending deliveries.
/// Setting the status a webhook already has changes nothing; an archived webhook stays archived.
pub(crate) async fn set_status(
    tx: &mut Tx,
    scope: &Scope,
    id: &WebhookId,
    to: WebhookStatus,
) -> Result<Webhook, Error> {
    let mut w = WEBHOOKS.get_for_update(tx, scope, id).await?;
    if w.status == to {
        return Ok(w);
    }
    refuse_archived(&w)?;
    let now = tx.now();
    w.status = to;
    w.updated_at = now;
    save(tx, &w).await?;
    if to != WebhookStatus::Enabled {
        tx.execute(
            "update webhook_deliveries set status = 'canceled', next_attempt_at = null, updated_at = $1 where webhook_id = $2 and status = 'pending'",
            args![now, &w.id],
        )
        .await?;
    }
    Ok(w)
}

/// Replaces the secret; the previous one keeps signing for `overlap_secs`.
pub(crate) async fn rotate_secret(
    tx: &mut Tx,
    scope: &Scope,
    id: &WebhookId,
    secret: String,
    overlap_secs: i64,
) -> Result<Webhook, Error> {
    let mut w = WEBHOOKS.get_for_update(tx, scope, id).await?;
    refuse_archived(&w)?;
    let now = tx.now();
    let old = std::mem::replace(&mut w.secret, secret);
    w.previous_secret = Some((old, now.plus_seconds(overlap_secs)));
    w.updated_at = now;
    save(tx, &w).await?;
    Ok(w)
}

/// A new webhook with every setting of `id` (its status included, unless archived: the copy is
/// then `disabled`) and a new secret. Counts against the environment's limit like a create.
pub(crate) async fn clone(
    tx: &mut Tx,
    scope: &Scope,
    id: &WebhookId,
    secret: String,
) -> Result<Webhook, Error> {
    let source = WEBHOOKS.get(tx, scope, id).await?;
    let mut w = create(
        tx,
        scope,
        NewWebhook {
            url: source.url,
            enabled_events: source.enabled_events,
            inflection: source.inflection,
            settings: source.settings,
            secret,
        },
    )
    .await?;
    let status = match source.status {
        WebhookStatus::Archived => WebhookStatus::Disabled,
        s => s,
    };
    if status != w.status {
        w.status = status;
        save(tx, &w).await?;
    }
    Ok(w)
}
