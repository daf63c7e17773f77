//! The demo's story, told through the same units of work as the API, each step printed with the
//! events it caused.

use std::collections::HashSet;
use std::time::Duration;

use anyhow::Context;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use tessera_core::connection::ConnectionAction;
use tessera_core::document::DocumentKind;
use tessera_core::fields::parse_writes;
use tessera_core::id::{ConnectionId, InquiryId, ShareTokenId, random_base62};
use tessera_core::inflect::Inflection;
use tessera_core::inquiry::InquiryAction;
use tessera_core::secret::generate_webhook_secret;
use tessera_core::share_token::{RedeemParams, ShareTokenStatus};
use tessera_core::template::{RequiredVerification, TemplateSpec};
use tessera_core::tenancy::{Actor, EnvKind, Scope};
use tessera_core::verification::{
    Check, CheckStatus, Requirement, VerificationKind, VerificationStatus,
};
use tessera_server::Config;
use tessera_store::units::documents::{self, NewDocument};
use tessera_store::units::events::{self, EventFilter};
use tessera_store::units::inquiries::{self, NewInquiry};
use tessera_store::units::verifications::{self, NewVerification};
use tessera_store::units::webhooks::{self, NewWebhook};
use tessera_store::units::{connections, share_tokens, templates, tenancy};
use tessera_store::{PageRequest, Store};
use tokio_util::sync::CancellationToken;

use crate::demo::receiver::Received;
use crate::demo::{Timeline, trust};

/// A dashboard sign-in the demo made.
pub struct SignIn {
    pub organization: String,
    pub email: String,
    pub password: String,
}

/// What the story made.
pub struct Outcome {
    pub sign_ins: Vec<SignIn>,
    /// The sharing organization's scope and the key it acted with.
    pub source: (Scope, Actor),
    pub source_inquiry: InquiryId,
    pub token: ShareTokenId,
    pub copy: InquiryId,
}

/// One organization of the story.
#[derive(Clone)]
struct Party {
    name: String,
    scope: Scope,
    actor: Actor,
}

/// The story and what it needs to tell it.
pub struct Story {
    store: Store,
    config: Config,
    timeline: Timeline,
    received: Received,
    /// The parties whose events are printed, and the events printed so far.
    watched: std::sync::Mutex<(Vec<Party>, HashSet<String>)>,
}

fn check(name: &str) -> Check {
    Check {
        name: name.to_owned(),
        status: CheckStatus::Passed,
        reasons: Vec::new(),
        requirement: Requirement::Required,
        metadata: Map::new(),
    }
}

fn object(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// A small picture of an identity card (SVG: text, so the demo needs no image files).
const ID_CARD: &str = r##"<svg xmlns="http://www.w3.org/2000/svg" width="320" height="200"><rect width="320" height="200" rx="14" fill="#e7eefc"/><text x="20" y="40" font-family="sans-serif" font-size="18">DEMO IDENTITY CARD</text><text x="20" y="90" font-family="sans-serif" font-size="16">JANE Q. DOE</text><text x="20" y="120" font-family="sans-serif" font-size="14">Born 1990-04-01 · No. D1234567</text></svg>"##;

impl Story {
    pub fn new(store: Store, config: Config, timeline: Timeline, received: Received) -> Self {
        Self {
            store,
            config,
            timeline,
            received,
            watched: std::sync::Mutex::new((Vec::new(), HashSet::new())),
        }
    }

    fn say(&self, text: &str) {
        self.timeline.line("step", text);
    }

    /// Prints the events of the watched organizations not printed yet, oldest first.
    async fn flush_events(&self) -> anyhow::Result<()> {
        let parties = match self.watched.lock() {
            Ok(w) => w.0.clone(),
            Err(_) => return Ok(()),
        };
        let mut fresh = Vec::new();
        for p in parties {
            let page = self
                .store
                .read(events::list(
                    p.scope.clone(),
                    EventFilter::default(),
                    PageRequest {
                        size: 100,
                        cursor: None,
                    },
                ))
                .await?;
            // Oldest first; the sort below is stable, so events of one moment keep their order.
            for e in page.items.into_iter().rev() {
                fresh.push((e, p.name.clone()));
            }
        }
        fresh.sort_by_key(|(e, _)| e.created_at);
        let Ok(mut w) = self.watched.lock() else {
            return Ok(());
        };
        for (e, who) in fresh {
            if w.1.insert(e.id.to_string()) {
                self.timeline
                    .line("event", &format!("{who:<13} {} ({})", e.name, e.object_id));
            }
        }
        Ok(())
    }

    async fn organization(&self, name: &str, email: &str) -> anyhow::Result<(Party, SignIn)> {
        let created = self
            .store
            .write(tenancy::create_organization(name.to_owned()))
            .await?;
        let (key, _) = created
            .keys
            .iter()
            .find(|(k, _)| k.scope.kind == EnvKind::Sandbox)
            .context("no sandbox key")?;
        let password = random_base62(16);
        tessera_server::api::admin::create_user_in(
            &self.store,
            created.organization.id.clone(),
            email,
            &password,
            "admin",
        )
        .await
        .map_err(|e| anyhow::anyhow!(e.detail))?;
        self.say(&format!(
            "{name} is organization {} (dashboard user {email})",
            created.organization.id
        ));
        let party = Party {
            name: name.to_owned(),
            scope: key.scope.clone(),
            actor: Actor::ApiKey(key.id.clone()),
        };
        if let Ok(mut w) = self.watched.lock() {
            w.0.push(party.clone());
        }
        Ok((
            party,
            SignIn {
                organization: name.to_owned(),
                email: email.to_owned(),
                password,
            },
        ))
    }

    async fn connect(&self, acme: &Party, beta: &Party) -> anyhow::Result<ConnectionId> {
        let c = self
            .store
            .write(connections::create(
                acme.scope.clone(),
                beta.scope.org.clone(),
                Some("Acme → Beta".into()),
                acme.actor.clone(),
            ))
            .await?;
        self.say(&format!(
            "{} asks to share with {}: connection {} is pending",
            acme.name, beta.name, c.id
        ));
        self.flush_events().await?;
        self.store
            .write(connections::act(
                beta.scope.clone(),
                c.id.clone(),
                ConnectionAction::Activate,
            ))
            .await?;
        self.say(&format!("{} activates the connection", beta.name));
        self.flush_events().await?;
        Ok(c.id)
    }

    async fn inquiry(&self, acme: &Party) -> anyhow::Result<InquiryId> {
        let fields = parse_writes(
            &object(json!({
                "name-first": "Jane", "name-middle": "Quinn", "name-last": "Doe",
                "birthdate": "1990-04-01", "address-street-1": "1 Main Street",
                "address-city": "Springfield", "address-country-code": "US",
                "email-address": "jane.doe@example.com", "identification-number": "D1234567",
                "identification-class": "dl", "issuing-country": "US", "expiration-date": "2031-04-01"
            })),
            "/fields",
        )?;
        let i = self
            .store
            .write(inquiries::create(
                acme.scope.clone(),
                NewInquiry {
                    reference_id: Some("customer-4711".into()),
                    fields,
                    ..NewInquiry::default()
                },
            ))
            .await?;
        self.say(&format!(
            "{} records inquiry {} for Jane Doe",
            acme.name, i.id
        ));
        let id = i.id;
        let kinds = [
            (
                VerificationKind::GovernmentId,
                vec![
                    "id_barcode_detection",
                    "id_expiration",
                    "id_tamper_detection",
                ],
                json!({"name-first": "Jane", "name-last": "Doe", "birthdate": "1990-04-01",
                       "identification-number": "D1234567", "issuing-country": "US",
                       "expiration-date": "2031-04-01"}),
            ),
            (
                VerificationKind::Selfie,
                vec!["selfie_id_comparison", "selfie_liveness"],
                json!({}),
            ),
            (
                VerificationKind::Database,
                vec!["address_match", "birthdate_match"],
                json!({}),
            ),
        ];
        for (kind, checks, attributes) in kinds {
            let v = self
                .store
                .write(verifications::record(
                    acme.scope.clone(),
                    NewVerification {
                        inquiry_id: id.clone(),
                        kind,
                        status: VerificationStatus::Passed,
                        checks: checks.into_iter().map(check).collect(),
                        attributes: object(attributes),
                        completed_at: None,
                    },
                ))
                .await?;
            self.say(&format!("{} verification {} passed", kind.as_str(), v.id));
        }
        let d = self
            .store
            .write(documents::create(
                acme.scope.clone(),
                id.clone(),
                NewDocument {
                    kind: DocumentKind::GovernmentIdFront,
                    filename: Some("id-front.svg".into()),
                    content_type: "image/svg+xml".into(),
                    bytes: ID_CARD.as_bytes().to_vec(),
                    sha256: hex::encode(Sha256::digest(ID_CARD.as_bytes())),
                },
            ))
            .await?;
        self.say(&format!("document {} (front of the ID) uploaded", d.id));
        for action in [InquiryAction::Complete, InquiryAction::Approve] {
            self.store
                .write(inquiries::transition(
                    acme.scope.clone(),
                    id.clone(),
                    action,
                ))
                .await?;
        }
        self.say(&format!("{} completes and approves the inquiry", acme.name));
        self.flush_events().await?;
        Ok(id)
    }

    async fn webhook(&self, beta: &Party, url: &str) -> anyhow::Result<()> {
        let outbound = self.config.outbound_client()?;
        let url = tessera_server::edge::inputs::check_url(&outbound, url.to_owned())
            .await
            .map_err(|e| anyhow::anyhow!(e.detail))?;
        let secret = generate_webhook_secret();
        if let Ok(mut s) = self.received.secret.lock() {
            *s = Some(secret.clone());
        }
        let w = self
            .store
            .write(webhooks::create(
                beta.scope.clone(),
                NewWebhook {
                    settings: tessera_core::webhook::WebhookSettings::defaults(&url),
                    url,
                    enabled_events: vec!["*".into()],
                    inflection: Inflection::default(),
                    secret,
                },
            ))
            .await?;
        self.say(&format!(
            "{} adds webhook {} for every event",
            beta.name, w.id
        ));
        Ok(())
    }

    /// Plays the story; returns the sign-ins and what was shared.
    pub async fn play(&self, receiver_url: &str) -> anyhow::Result<Outcome> {
        let (acme, acme_user) = self.organization("Acme Bank", "admin@acme.example").await?;
        let (beta, beta_user) = self
            .organization("Beta Lending", "admin@beta.example")
            .await?;
        self.webhook(&beta, receiver_url).await?;
        let connection = self.connect(&acme, &beta).await?;
        let source = self.inquiry(&acme).await?;

        let spec = TemplateSpec::parse(
            "Lending KYC".into(),
            vec![
                "name-first".into(),
                "name-last".into(),
                "birthdate".into(),
                "address-country-code".into(),
            ],
            vec![
                RequiredVerification {
                    kind: VerificationKind::GovernmentId,
                    max_age_days: Some(365),
                },
                RequiredVerification {
                    kind: VerificationKind::Selfie,
                    max_age_days: None,
                },
            ],
            Some(18),
            Some(vec!["US".into(), "GB".into(), "DE".into()]),
        )?;
        let template = self
            .store
            .write(templates::create(beta.scope.clone(), spec))
            .await?;
        self.say(&format!(
            "{} sets its requirements: template {} (name, birthdate, country; ID within a year and a selfie; 18+; US, GB, DE)",
            beta.name, template.id
        ));

        let token = self
            .store
            .write(share_tokens::create(
                acme.scope.clone(),
                tessera_core::share_token::TokenSpec {
                    connection_id: connection,
                    source_id: tessera_core::share_token::SourceId::Inquiry(source.clone()),
                    expires_in_seconds: 3600,
                    disclosure: Default::default(),
                },
                acme.actor.clone(),
            ))
            .await?;
        self.say(&format!(
            "{} creates share token {} and sends it to {}",
            acme.name, token.id, beta.name
        ));
        self.flush_events().await?;

        let (preview, digest) =
            trust::preview(&self.store, &beta.scope, &token.id, &template.id).await?;
        self.say(&format!("{} {preview}", beta.name));
        let params = RedeemParams {
            destination_id: None,
            inquiry_template_id: Some(template.id.clone()),
            field_mappings: Vec::new(),
            manifest_digest: Some(digest),
        };
        self.store
            .write(share_tokens::redeem(
                beta.scope.clone(),
                token.id.clone(),
                params,
            ))
            .await?;
        self.say(&format!(
            "{} redeems the token; the worker copies and verifies in the background",
            beta.name
        ));

        // Wait, with a deadline, for the worker to finish the copy and for its webhook to arrive.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        let copy = loop {
            self.flush_events().await?;
            let t = self
                .store
                .read(share_tokens::get(beta.scope.clone(), token.id.clone()))
                .await?;
            match (t.status, t.destination_inquiry_id) {
                (ShareTokenStatus::Redeemed, Some(copy)) => break copy,
                (ShareTokenStatus::Failed, _) => anyhow::bail!(
                    "the redemption failed: {}",
                    t.failure_reason.unwrap_or_default()
                ),
                _ if tokio::time::Instant::now() > deadline => {
                    anyhow::bail!("the redemption did not finish within a minute")
                }
                _ => tokio::time::sleep(Duration::from_millis(100)).await,
            }
        };
        let checked = self
            .store
            .read(verifications::for_inquiry(beta.scope.clone(), copy.clone()))
            .await?;
        if let Some(v) = checked
            .iter()
            .find(|v| v.kind == VerificationKind::ShareToken)
        {
            let checks: Vec<String> = v
                .checks
                .iter()
                .map(|c| {
                    format!(
                        "{} {}",
                        c.name,
                        serde_json::to_value(c.status)
                            .ok()
                            .and_then(|s| s.as_str().map(str::to_owned))
                            .unwrap_or_default()
                    )
                })
                .collect();
            self.say(&format!(
                "{} has its verified copy {}: share-token verification {} ({})",
                beta.name,
                copy,
                v.status.as_str(),
                checks.join(", ")
            ));
        }
        let receipt = trust::check_receipt(&self.store, &beta.scope, &token.id).await?;
        self.say(&format!("{} {receipt}", beta.name));
        while !self.received.has("connect/share-token.inbound-redeemed") {
            if tokio::time::Instant::now() > deadline {
                self.say("the webhook delivery of the redemption has not arrived yet; see the dashboard's webhook page");
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.flush_events().await?;
        Ok(Outcome {
            sign_ins: vec![acme_user, beta_user],
            source: (acme.scope.clone(), acme.actor.clone()),
            source_inquiry: source,
            token: token.id,
            copy,
        })
    }

    /// Keeps printing new events until `stop`.
    pub async fn follow_events(self, stop: CancellationToken) {
        loop {
            tokio::select! {
                () = stop.cancelled() => return,
                () = tokio::time::sleep(Duration::from_secs(1)) => {}
            }
            if let Err(e) = self.flush_events().await {
                self.timeline
                    .line("error", &format!("could not read events: {e}"));
            }
        }
    }
}
