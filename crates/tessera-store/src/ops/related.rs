//! The related objects shown beside an object (JSON:API's `included`). Which of them a caller
//! may see is the store's rule, decided here in the unit of work that reads the object; how they
//! are rendered is the caller's.

use tessera_core::Error;
use tessera_core::connection::Connection;
use tessera_core::document::Document;
use tessera_core::id::InquiryId;
use tessera_core::inquiry::Inquiry;
use tessera_core::share_token::ShareToken;
use tessera_core::template::Template;
use tessera_core::tenancy::Scope;
use tessera_core::verification::Verification;

use crate::ops::{connections, documents, inquiries, templates, verifications};
use crate::tx::Tx;

/// An object shown beside another, in the order the caller is to show them.
#[derive(Debug, Clone)]
pub enum Related {
    Connection(Connection),
    /// (Boxed: an inquiry is several times larger than the others.)
    Inquiry(Box<Inquiry>),
    Verification(Verification),
    Document(Document),
    Template(Template),
}

/// What `include` asks for beside an inquiry.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InquiryIncludes {
    /// Its template (if it has one).
    pub template: bool,
    /// Its verifications.
    pub verifications: bool,
    /// Its documents.
    pub documents: bool,
}

/// What `include` asks for beside a share token.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ShareTokenIncludes {
    /// Its connection (either side sees it).
    pub connection: bool,
    /// The shared inquiry or verification: shown to the source side only.
    pub source: bool,
    /// The destination's inquiry or verification, once there is one: shown to the destination
    /// side only.
    pub destination: bool,
}

/// The template, verifications and documents of `inquiry` that `include` asks for.
pub(crate) async fn of_inquiry(
    tx: &mut Tx,
    scope: &Scope,
    inquiry: &Inquiry,
    include: InquiryIncludes,
) -> Result<Vec<Related>, Error> {
    let mut out = Vec::new();
    if let Some(t) = inquiry.template_id.as_ref().filter(|_| include.template) {
        out.push(Related::Template(templates::get(tx, scope, t).await?));
    }
    if include.verifications {
        for v in verifications::for_inquiry(tx, scope, &inquiry.id).await? {
            out.push(Related::Verification(v));
        }
    }
    if include.documents {
        for d in documents::for_inquiry(tx, scope, &inquiry.id).await? {
            out.push(Related::Document(d));
        }
    }
    Ok(out)
}

/// The related objects of `t` that `include` asks for and the caller (`scope`) may see: the
/// connection (either side), the source inquiry or verification (source side), the destination
/// inquiry or verification (destination side, once the redemption made one).
pub(crate) async fn of_share_token(
    tx: &mut Tx,
    scope: &Scope,
    t: &ShareToken,
    include: ShareTokenIncludes,
) -> Result<Vec<Related>, Error> {
    let mut out = Vec::new();
    if include.connection {
        out.push(Related::Connection(
            connections::get(tx, scope, &t.connection_id).await?,
        ));
    }
    if include.source && t.is_source(scope) {
        out.push(match &t.source_verification {
            Some((_, id)) => Related::Verification(verifications::get(tx, scope, id).await?),
            None => Related::Inquiry(Box::new(
                inquiries::get(tx, scope, &t.source_inquiry_id).await?,
            )),
        });
    }
    if include.destination && t.is_destination(scope) {
        match (&t.source_verification, &t.destination_verification_id) {
            (Some(_), Some(id)) => {
                out.push(Related::Verification(
                    verifications::get(tx, scope, id).await?,
                ));
            }
            (Some(_), None) => {}
            (None, _) => {
                if let Some(id) = &t.destination_inquiry_id {
                    out.push(Related::Inquiry(Box::new(
                        inquiries::get(tx, scope, id).await?,
                    )));
                }
            }
        }
    }
    Ok(out)
}

/// The inquiry `id` (the parent of a verification or document) when `wanted`.
pub(crate) async fn parent_inquiry(
    tx: &mut Tx,
    scope: &Scope,
    id: &InquiryId,
    wanted: bool,
) -> Result<Option<Inquiry>, Error> {
    if !wanted {
        return Ok(None);
    }
    Ok(Some(inquiries::get(tx, scope, id).await?))
}
