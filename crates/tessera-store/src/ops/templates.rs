//! Inquiry templates.

use tessera_core::Error;
use tessera_core::id::TemplateId;
use tessera_core::source_status::OnSourceRedaction;
use tessera_core::template::{Template, TemplatePatch, TemplateSpec};
use tessera_core::tenancy::Scope;

use crate::args;
use crate::ops::scoped::{IN_ENVIRONMENT, Table};
use crate::paging::{Filter, Page, PageRequest, fetch_page};
use crate::tx::{Row, Tx, json};

const COLUMNS: &str = "id, name, required_fields, required_verifications, minimum_age, allowed_countries, on_source_redaction, created_at";

fn from_row(r: &Row) -> Result<Template, Error> {
    Ok(Template {
        id: TemplateId::from_db(r.text("id")?),
        name: r.text("name")?,
        required_fields: r.json("required_fields")?,
        required_verifications: r.json("required_verifications")?,
        minimum_age: r
            .opt_i64("minimum_age")?
            .and_then(|a| u32::try_from(a).ok()),
        allowed_countries: r.opt_json("allowed_countries")?,
        on_source_redaction: OnSourceRedaction::parse(&r.text("on_source_redaction")?, "")
            .unwrap_or_default(),
        created_at: r.time("created_at")?,
    })
}

pub(crate) async fn create(
    tx: &mut Tx,
    scope: &Scope,
    spec: TemplateSpec,
) -> Result<Template, Error> {
    let t = Template {
        id: TemplateId::generate(),
        name: spec.name,
        required_fields: spec.required_fields,
        required_verifications: spec.required_verifications,
        minimum_age: spec.minimum_age,
        allowed_countries: spec.allowed_countries,
        on_source_redaction: spec.on_source_redaction,
        created_at: tx.now(),
    };
    tx.execute(
        "insert into inquiry_templates (id, environment_id, name, required_fields, required_verifications, minimum_age, allowed_countries, created_at, on_source_redaction)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        args![
            &t.id,
            &scope.env,
            &t.name,
            json(&t.required_fields),
            json(&t.required_verifications),
            t.minimum_age,
            t.allowed_countries.as_ref().map(|c| serde_json::to_string(c).unwrap_or_default()),
            t.created_at,
            t.on_source_redaction.as_str()
        ],
    )
    .await?;
    Ok(t)
}

/// Where inquiry templates are stored, for the scoped fetch.
const TEMPLATES: Table<Template> = Table {
    table: "inquiry_templates",
    columns: COLUMNS,
    visible: IN_ENVIRONMENT,
    noun: "inquiry template",
    from_row,
};

/// A template of the scope, or 404.
pub(crate) async fn get(tx: &mut Tx, scope: &Scope, id: &TemplateId) -> Result<Template, Error> {
    TEMPLATES.get(tx, scope, id).await
}

pub(crate) async fn list(
    tx: &mut Tx,
    scope: &Scope,
    page: &PageRequest,
) -> Result<Page<Template>, Error> {
    fetch_page(
        tx,
        "inquiry_templates",
        COLUMNS,
        Filter::new().and("environment_id = ?", &scope.env),
        page,
    )
    .await?
    .try_map(|r| from_row(&r))
}

/// Changes a template of the scope (else 404): the patch is applied over the stored definition and
/// the result checked as a whole, as a new template is. Nothing is written when it is refused.
/// Templates emit no events (neither does their creation). Redemptions copied from now on are
/// checked against the new definition.
pub(crate) async fn update(
    tx: &mut Tx,
    scope: &Scope,
    id: &TemplateId,
    patch: TemplatePatch,
) -> Result<Template, Error> {
    let current = TEMPLATES.get_for_update(tx, scope, id).await?;
    let spec = patch.apply_to(&current)?;
    let t = Template {
        id: current.id,
        name: spec.name,
        required_fields: spec.required_fields,
        required_verifications: spec.required_verifications,
        minimum_age: spec.minimum_age,
        allowed_countries: spec.allowed_countries,
        on_source_redaction: spec.on_source_redaction,
        created_at: current.created_at,
    };
    tx.execute(
        "update inquiry_templates set name = $1, required_fields = $2, required_verifications = $3, minimum_age = $4, allowed_countries = $5, on_source_redaction = $8
         where id = $6 and environment_id = $7",
        args![
            &t.name,
            json(&t.required_fields),
            json(&t.required_verifications),
            t.minimum_age,
            t.allowed_countries.as_ref().map(|c| serde_json::to_string(c).unwrap_or_default()),
            &t.id,
            &scope.env,
            t.on_source_redaction.as_str()
        ],
    )
    .await?;
    Ok(t)
}
