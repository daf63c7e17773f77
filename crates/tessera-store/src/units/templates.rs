//! Units of work on templates: each runs the op of the same name in `crate::ops::templates` as one
//! transaction. The types they take and return are re-exported from there.

use crate::ops::templates as op;
use crate::paging::{Page, PageRequest};
use tessera_core::id::TemplateId;
use tessera_core::template::{Template, TemplatePatch, TemplateSpec};
use tessera_core::tenancy::Scope;

crate::work::units! { op;
    Write create(scope: Scope, spec: TemplateSpec) -> Template = create(&scope, spec);
    Read get(scope: Scope, id: TemplateId) -> Template = get(&scope, &id);
    Read list(scope: Scope, page: PageRequest) -> Page<Template> = list(&scope, &page);
}

/// Changes a template of the scope (another environment's or organization's is 404): absent parts
/// stay, and the result is checked as a whole by `TemplateSpec::parse`, like a new template; a
/// refused change writes nothing. Redemptions copied afterwards are checked against it.
pub fn update(scope: Scope, id: TemplateId, patch: TemplatePatch) -> crate::Write<Template> {
    crate::Write::new(move |tx| Box::pin(async move { op::update(tx, &scope, &id, patch).await }))
}
