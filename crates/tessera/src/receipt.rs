//! `tessera receipt verify`: checks a share receipt offline (or against a JWKS fetched once), with
//! no database and no running instance: the signature under the issuing instance's published keys
//! (active or retired, so receipts signed before a key rotation still verify) and, with `--data`,
//! that the data is exactly what the receipt says was copied.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use serde_json::Value;
use tessera_core::keys::Jwk;
use tessera_core::receipt;

#[derive(Subcommand)]
pub enum ReceiptCommand {
    /// Verifies a receipt: prints its claims and exits 0, or says why not and exits 1.
    Verify(VerifyArgs),
}

#[derive(Args)]
pub struct VerifyArgs {
    /// The receipt: a file holding the compact JWS, or the API's receipt document
    /// (`GET …/share-tokens/{id}/receipt`, as the dashboard downloads it).
    file: PathBuf,
    /// The issuing instance's keys: its `/.well-known/jwks.json` URL, or a file holding it.
    #[arg(long)]
    jwks: String,
    /// The data copied: a JSON file (or the same receipt document, whose `data` it is) whose RFC
    /// 8785 digest must be the receipt's `data-digest`.
    #[arg(long)]
    data: Option<PathBuf>,
}

fn read_json(path: &Path) -> anyhow::Result<Value> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))
}

/// The compact JWS in a file: the JWS itself, or a receipt document's `jws`.
fn receipt_of(path: &Path) -> anyhow::Result<String> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let trimmed = text.trim();
    if !trimmed.starts_with('{') {
        return Ok(trimmed.to_owned());
    }
    let doc: Value = serde_json::from_str(trimmed)
        .with_context(|| format!("{} is neither a JWS nor JSON", path.display()))?;
    doc["data"]["attributes"]["jws"]
        .as_str()
        .map(str::to_owned)
        .with_context(|| {
            format!(
                "{} is not a receipt document (no data.attributes.jws)",
                path.display()
            )
        })
}

async fn jwks_of(source: &str) -> anyhow::Result<Vec<Jwk>> {
    let doc: Value = if source.starts_with("http://") || source.starts_with("https://") {
        reqwest::get(source)
            .await
            .with_context(|| format!("fetching {source}"))?
            .error_for_status()?
            .json()
            .await
            .with_context(|| format!("{source} is not JSON"))?
    } else {
        read_json(Path::new(source))?
    };
    serde_json::from_value(doc["keys"].clone())
        .context("the JWKS has no `keys` list of JWKs (Ed25519 or P-256)")
}

pub async fn run(command: ReceiptCommand) -> anyhow::Result<()> {
    let ReceiptCommand::Verify(args) = command;
    let jws = receipt_of(&args.file)?;
    let keys = jwks_of(&args.jwks).await?;
    let claims = match receipt::verify(&jws, &keys) {
        Ok(c) => c,
        Err(e) => bail!("the receipt does not verify: {e}"),
    };
    if let Some(path) = &args.data {
        let doc = read_json(path)?;
        // A receipt document carries the data itself.
        let data = match doc["data"]["attributes"].get("data") {
            Some(d) if doc["data"]["type"] == "connect/share-token-receipt" => d.clone(),
            _ => doc,
        };
        if let Err(e) = receipt::check_data(&claims, &data) {
            bail!("the data is not what the receipt says was copied: {e}");
        }
    }
    println!("{}", serde_json::to_string_pretty(&claims)?);
    println!(
        "verified: signed by instance {} (kid in the JWKS){}",
        claims.iss,
        if args.data.is_some() {
            "; the data is exactly what was copied"
        } else {
            ""
        }
    );
    Ok(())
}
