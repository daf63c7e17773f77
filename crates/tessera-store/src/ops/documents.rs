//! Documents and their stored bytes.

use tessera_core::document::{Document, DocumentKind};
use tessera_core::event::names;
use tessera_core::id::{DocumentId, FileId, InquiryId};
use tessera_core::tenancy::Scope;
use tessera_core::{Error, codes};

use crate::args;
use crate::ops::{fanout, inquiries};
use crate::tx::{Row, Tx};

const COLUMNS: &str =
    "id, inquiry_id, kind, filename, content_type, byte_size, sha256, file_id, created_at";

fn from_row(r: &Row) -> Result<Document, Error> {
    Ok(Document {
        id: DocumentId::from_db(r.text("id")?),
        inquiry_id: InquiryId::from_db(r.text("inquiry_id")?),
        kind: DocumentKind::parse(&r.text("kind")?).unwrap_or(DocumentKind::Other),
        filename: r.opt_text("filename")?,
        content_type: r.text("content_type")?,
        byte_size: r.i64("byte_size")?,
        sha256: r.opt_text("sha256")?,
        file_id: r.opt_text("file_id")?.map(FileId::from_db),
        created_at: r.time("created_at")?,
    })
}

/// An uploaded document.
#[derive(Debug, Clone)]
pub struct NewDocument {
    pub kind: DocumentKind,
    pub filename: Option<String>,
    pub content_type: String,
    pub bytes: Vec<u8>,
    /// Hex SHA-256 of `bytes`.
    pub sha256: String,
}

/// Inserts a document and its bytes as given, without events (redemption copies use this).
pub(crate) async fn insert(
    tx: &mut Tx,
    scope: &Scope,
    d: &Document,
    bytes: Option<Vec<u8>>,
) -> Result<(), Error> {
    if let (Some(file), Some(bytes)) = (&d.file_id, bytes) {
        tx.execute(
            "insert into files (id, environment_id, bytes, created_at) values ($1, $2, $3, $4)",
            args![file, &scope.env, bytes, d.created_at],
        )
        .await?;
    }
    tx.execute(
        &format!("insert into documents ({COLUMNS}, environment_id) values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)"),
        args![
            &d.id,
            &d.inquiry_id,
            d.kind.as_str(),
            d.filename.as_ref(),
            d.content_type.as_str(),
            d.byte_size,
            d.sha256.as_ref(),
            d.file_id.as_ref(),
            d.created_at,
            &scope.env
        ],
    )
    .await?;
    Ok(())
}

/// Attaches a document to an open inquiry.
pub(crate) async fn create(
    tx: &mut Tx,
    scope: &Scope,
    inquiry_id: &InquiryId,
    new: NewDocument,
) -> Result<Document, Error> {
    let mut inquiry = inquiries::get_for_update(tx, scope, inquiry_id).await?;
    inquiry.ensure_open()?;
    let now = tx.now();
    let d = Document {
        id: DocumentId::generate(),
        inquiry_id: inquiry_id.clone(),
        kind: new.kind,
        filename: new.filename,
        content_type: new.content_type,
        byte_size: i64::try_from(new.bytes.len()).unwrap_or(i64::MAX),
        sha256: Some(new.sha256),
        file_id: Some(FileId::generate()),
        created_at: now,
    };
    insert(tx, scope, &d, Some(new.bytes)).await?;
    inquiry.updated_at = now;
    inquiries::save(tx, scope, &inquiry).await?;
    fanout::emit(
        tx,
        &scope.env,
        names::DOCUMENT_CREATED,
        d.to_resource().to_value(),
    )
    .await?;
    Ok(d)
}

/// A document of the scope, or 404.
pub(crate) async fn get(tx: &mut Tx, scope: &Scope, id: &DocumentId) -> Result<Document, Error> {
    let row = tx
        .fetch_optional(
            &format!("select {COLUMNS} from documents where id = $1 and environment_id = $2"),
            args![id, &scope.env],
        )
        .await?
        .ok_or_else(|| Error::not_found("document"))?;
    from_row(&row)
}

/// A document's bytes; 410 once redacted.
pub(crate) async fn file(
    tx: &mut Tx,
    scope: &Scope,
    id: &DocumentId,
) -> Result<(Document, Vec<u8>), Error> {
    let doc = get(tx, scope, id).await?;
    let Some(file) = &doc.file_id else {
        return Err(Error::new(
            tessera_core::Status::Gone,
            codes::DOCUMENT_REDACTED,
            "the document's file was removed by redaction",
        ));
    };
    let row = tx
        .fetch_one(
            "select bytes from files where id = $1 and environment_id = $2",
            args![file, &scope.env],
        )
        .await?;
    Ok((doc, row.bytes("bytes")?))
}

/// The documents of an inquiry, oldest first.
pub(crate) async fn for_inquiry(
    tx: &mut Tx,
    scope: &Scope,
    inquiry: &InquiryId,
) -> Result<Vec<Document>, Error> {
    let rows = tx
        .fetch_all(
            &format!("select {COLUMNS} from documents where inquiry_id = $1 and environment_id = $2 order by seq"),
            args![inquiry, &scope.env],
        )
        .await?;
    rows.iter().map(from_row).collect()
}
