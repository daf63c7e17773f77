//! Units of work on templates: each runs the op of the same name in `crate::ops::templates` as one
//! transaction. The types they take and return are re-exported from there.

use crate::ops::templates as op;
use crate::paging::{Page, PageRequest};
use tessera_core::id::TemplateId;
use tessera_core::template::{Template, TemplateSpec};
use tessera_core::tenancy::Scope;

crate::work::units! { op;
    Write create(scope: Scope, spec: TemplateSpec) -> Template = create(&scope, spec);
    Read get(scope: Scope, id: TemplateId) -> Template = get(&scope, &id);
    Read list(scope: Scope, page: PageRequest) -> Page<Template> = list(&scope, &page);
}
