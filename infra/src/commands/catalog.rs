//! `jwo catalog`: the price book into the catalog store (`import`), and its items to Amazon's
//! Catalog API (`upload`, `status`).

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use clap::{Args, Subcommand};
use indicatif::{ProgressBar, ProgressStyle};
use jwo_aws::amazon::catalog_client::{CatalogCallError, CatalogClient};
use jwo_domain::catalog::catalog_items::{catalog_items, upload_calls};
use jwo_domain::catalog::ingestion::{Ingestion, StatusRecorded, Upload};
use jwo_domain::catalog::price_book_versions::{Published, import_price_book, load_version};
use jwo_domain::contract::catalog::{
    CatalogUploadRequest, MAX_CALLS_PER_SECOND, MAX_ITEMS_PER_UPLOAD,
};
use jwo_domain::ports::{IngestionStore, PriceBookStore};
use jwo_domain::pricing::{PriceBook, PriceBookFile, import_items_csv};

use crate::catalog_store::CatalogStoreArgs;

#[derive(Debug, Subcommand)]
pub enum CatalogCommand {
    /// Check a price book (JSON, or a CSV of items: see the README) and store it as the next
    /// version in the catalog store; Create Purchases prices from it within its cache time.
    /// Nothing is stored unless every row is good; errors name the row and column. Exit code 0
    /// imported (or unchanged), 1 refused or failed.
    Import(Import),
    /// Upload the current price book's items to the Catalog API: one item per store, at most
    /// 10,000 items a call and 10 calls a second, SigV4-signed (after assuming --role-arn if
    /// given), transient failures retried. Every ingestionId is stored with its status. Exit
    /// code 0 when every call was accepted, 1 otherwise.
    Upload(UploadArgs),
    /// Show the uploads and their statuses; with --endpoint, ask the Catalog API first
    /// (getCatalogUploadStatus) for INGESTION_ID, or for every upload not finished. Exit code 1
    /// when a call is refused or an upload shown ended FATAL or CANCELLED.
    Status(StatusArgs),
}

#[derive(Debug, Args)]
pub struct Import {
    /// The price book: a JSON file, or a `.csv` of items.
    pub file: std::path::PathBuf,
    /// For a CSV: the JSON price book whose currency, stores, tax rates and promotions go with
    /// the items. Default: the current version's.
    #[arg(long, value_name = "FILE")]
    pub base: Option<std::path::PathBuf>,
    #[command(flatten)]
    pub store: CatalogStoreArgs,
}

#[derive(Debug, Args)]
pub struct CatalogApiArgs {
    /// The Catalog API's base URL (from onboarding; the stack's CatalogApiEndpoint output).
    #[arg(long, value_name = "URL", env = "JWO_CATALOG_ENDPOINT")]
    pub endpoint: Option<String>,
    /// Region of the SigV4 signatures.
    #[arg(long, env = "AWS_REGION", default_value = "us-east-1")]
    pub region: String,
    /// Assume this role (from onboarding; the stack's CatalogApiRoleArn output) and sign with
    /// its temporary credentials; otherwise sign with the AWS credentials of the environment.
    #[arg(long, value_name = "ARN", env = "JWO_CATALOG_ROLE_ARN")]
    pub role_arn: Option<String>,
}

#[derive(Debug, Args)]
pub struct UploadArgs {
    #[command(flatten)]
    pub store: CatalogStoreArgs,
    #[command(flatten)]
    pub api: CatalogApiArgs,
    /// Upload only these stores' items (repeat, or comma-separate); default every store of
    /// the price book.
    #[arg(long = "store", value_name = "STORE_ID", value_delimiter = ',')]
    pub stores: Vec<String>,
    /// Items in one call (at most the Catalog API's 10,000).
    #[arg(long, default_value_t = MAX_ITEMS_PER_UPLOAD as u32, value_parser = clap::value_parser!(u32).range(1..=MAX_ITEMS_PER_UPLOAD as i64))]
    pub items_per_call: u32,
    /// Calls a second (at most the Catalog API's 10).
    #[arg(long, default_value_t = MAX_CALLS_PER_SECOND, value_parser = clap::value_parser!(u32).range(1..=MAX_CALLS_PER_SECOND as i64))]
    pub calls_per_second: u32,
    /// How long one attempt of a call waits for its answer before it is tried again.
    #[arg(long, default_value_t = 30_000, value_parser = clap::value_parser!(u64).range(100..=300_000))]
    pub attempt_timeout_ms: u64,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// One upload; default all of them.
    pub ingestion_id: Option<String>,
    #[command(flatten)]
    pub store: CatalogStoreArgs,
    #[command(flatten)]
    pub api: CatalogApiArgs,
    /// Keep asking until every upload asked about is DONE, FATAL or CANCELLED.
    #[arg(long, requires = "endpoint")]
    pub wait: bool,
    /// Seconds between rounds of --wait.
    #[arg(long, default_value_t = 5)]
    pub interval_seconds: u64,
}

pub fn run(command: CatalogCommand) -> ExitCode {
    crate::init_tracing();
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime starts");
    let outcome = runtime.block_on(async {
        match command {
            CatalogCommand::Import(args) => import(args).await,
            CatalogCommand::Upload(args) => upload(args).await,
            CatalogCommand::Status(args) => status(args).await,
        }
    });
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Reads and checks a price book file: JSON, or a CSV of items over `base` (the rest of the
/// price book). Errors start with the file's name.
pub fn read_price_book_file(path: &Path, base: Option<PriceBookFile>) -> Result<PriceBook, String> {
    let name = path.display();
    let bytes = std::fs::read(path).map_err(|error| format!("{name}: {error}"))?;
    let is_csv = path
        .extension()
        .is_some_and(|extension| extension.eq_ignore_ascii_case("csv"));
    let checked = if is_csv {
        let base = base.ok_or_else(|| {
            format!(
                "{name}: a CSV holds items only; give --base PRICEBOOK.json, or import a JSON \
                 price book first"
            )
        })?;
        import_items_csv(base, &bytes[..])
    } else {
        PriceBook::from_json(&bytes)
    };
    checked.map_err(|error| format!("{name}: {error}\nnothing was imported"))
}

async fn import(args: Import) -> Result<(), String> {
    let store = args.store.open().await?;
    let is_csv = args
        .file
        .extension()
        .is_some_and(|extension| extension.eq_ignore_ascii_case("csv"));
    let base = match (&args.base, is_csv) {
        (Some(base), _) => Some(read_price_book_file(base, None)?.file().clone()),
        (None, true) => match store.head().await.map_err(|e| e.to_string())? {
            Some(head) => Some(
                load_version(&store, &head)
                    .await
                    .map_err(|e| e.to_string())?
                    .file()
                    .clone(),
            ),
            None => None,
        },
        (None, false) => None,
    };
    let book = read_price_book_file(&args.file, base)?;
    let source = args.file.file_name().map_or_else(
        || args.file.display().to_string(),
        |name| name.to_string_lossy().into_owned(),
    );
    let mut out = std::io::stdout();
    match import_price_book(&store, &book, &source)
        .await
        .map_err(|error| error.to_string())?
    {
        Published::New(head) => writeln!(
            out,
            "imported {} as price book {} in {}: {} items, sha256 {}",
            args.file.display(),
            head.label(),
            store.describe(),
            head.items,
            &head.sha256[..16]
        ),
        Published::Unchanged(head) => writeln!(
            out,
            "{} is the current price book already ({}); nothing changed",
            args.file.display(),
            head.label()
        ),
    }
    .map_err(|error| error.to_string())
}

impl CatalogApiArgs {
    /// The client, with credentials checked now rather than at the first call.
    async fn client(&self, calls_per_second: u32) -> Result<CatalogClient, String> {
        let endpoint = self.endpoint.as_deref().ok_or(
            "--endpoint is needed: the Catalog API base URL from onboarding (the stack's \
             CatalogApiEndpoint output)",
        )?;
        let credentials = match &self.role_arn {
            None => {
                jwo_aws::sdk::signing_credentials(&self.region, "jwo catalog")
                    .await?
                    .0
            }
            Some(role_arn) => {
                let aws = jwo_aws::sdk::sdk_config(jwo_aws::sdk::CallTimeouts::default()).await;
                let provider = aws_config::sts::AssumeRoleProvider::builder(role_arn)
                    .session_name("jwo-catalog")
                    .configure(&aws)
                    .build()
                    .await;
                provider
                    .provide_credentials()
                    .await
                    .map_err(|error| format!("cannot assume --role-arn {role_arn}: {error}"))?;
                SharedCredentialsProvider::new(provider)
            }
        };
        CatalogClient::new(endpoint, &self.region, credentials, calls_per_second)
            .map_err(|error| format!("--endpoint: {error}"))
    }
}

async fn upload(args: UploadArgs) -> Result<(), String> {
    let store = args.store.open().await?;
    let head = store
        .head()
        .await
        .map_err(|e| e.to_string())?
        .ok_or("no price book in the catalog store yet: run `jwo catalog import FILE` first")?;
    let book = load_version(&store, &head)
        .await
        .map_err(|e| e.to_string())?;
    let items = catalog_items(&book, &args.stores)?;
    if items.is_empty() {
        return Err(format!(
            "price book {} has no items to upload",
            head.label()
        ));
    }
    let mut client = args.api.client(args.calls_per_second).await?;
    client.attempt_timeout = std::time::Duration::from_millis(args.attempt_timeout_ms);
    let calls = upload_calls(&items, args.items_per_call as usize);
    let progress = ProgressBar::new(items.len() as u64).with_style(
        ProgressStyle::with_template("{bar:40} {pos}/{len} items {msg}").expect("a valid template"),
    );
    let say = |line: String| progress.suspend(|| println!("{line}"));
    say(format!(
        "uploading {} catalog items of price book {} in {} calls to {}",
        items.len(),
        head.label(),
        calls.len(),
        args.api.endpoint.as_deref().unwrap_or_default()
    ));
    let mut uploaded = Vec::new();
    for (index, chunk) in calls.iter().enumerate() {
        let call = index + 1;
        progress.set_message(format!("(call {call}/{})", calls.len()));
        let request = CatalogUploadRequest {
            catalog_items: chunk.to_vec(),
        };
        let uploaded_call = match client.upload(&request).await {
            Ok(uploaded_call) => uploaded_call,
            Err(error) => {
                progress.abandon();
                let done = if uploaded.is_empty() {
                    "no call was accepted".to_owned()
                } else {
                    format!("calls 1–{} were accepted and recorded", call - 1)
                };
                return Err(match error {
                    CatalogCallError::Refused { status, message } => format!(
                        "call {call}/{} was refused ({status}): {message}\n{done}",
                        calls.len()
                    ),
                    gave_up => format!("call {call}/{}: {gave_up}\n{done}", calls.len()),
                });
            }
        };
        let ingestion_id = &uploaded_call.ingestion_id;
        let recorded = store
            .record_upload(
                ingestion_id,
                &Upload {
                    items: chunk.len(),
                    price_book_version: head.label(),
                    call,
                    calls: calls.len(),
                    uploaded_at: chrono::Utc::now(),
                    unanswered_attempts: uploaded_call.unanswered_attempts,
                },
            )
            .await
            .map_err(|error| {
                format!("call {call} was accepted as ingestion {ingestion_id}, but recording it failed: {error}")
            })?;
        progress.inc(chunk.len() as u64);
        say(format!(
            "call {call}/{}: {} items → ingestion {ingestion_id} ({})",
            calls.len(),
            chunk.len(),
            recorded.status
        ));
        if uploaded_call.unanswered_attempts > 0 {
            say(format!(
                "  retried: {} earlier attempt(s) of call {call} got no answer, so Amazon may hold another ingestion of the same items (harmless: the Catalog API takes items as they are). It shows in `jwo catalog status` without a call once Amazon reports it.",
                uploaded_call.unanswered_attempts
            ));
        }
        uploaded.push(recorded);
    }
    progress.finish_and_clear();
    print_table(&uploaded);
    println!(
        "{} calls accepted; Amazon reports each result to the catalog queue, or run `jwo catalog status --wait`",
        uploaded.len()
    );
    Ok(())
}

async fn status(args: StatusArgs) -> Result<(), String> {
    let store = args.store.open().await?;
    let mut refused = Vec::new();
    if args.api.endpoint.is_some() {
        let client = args.api.client(MAX_CALLS_PER_SECOND).await?;
        let mut asking: Vec<String> = match &args.ingestion_id {
            Some(id) => vec![id.clone()],
            None => store
                .list_ingestions()
                .await
                .map_err(|e| e.to_string())?
                .into_iter()
                .filter(|ingestion| !ingestion.status.is_final())
                .map(|ingestion| ingestion.ingestion_id)
                .collect(),
        };
        loop {
            let mut still = Vec::new();
            for id in asking {
                match client.status(&id).await {
                    Ok(answer) => {
                        let update = Ingestion {
                            report_download_link: answer.report_download_link,
                            detail: answer.other,
                            ..Ingestion::with_status(&id, answer.processing_status)
                        };
                        let stored = match store
                            .record_status(&update)
                            .await
                            .map_err(|e| e.to_string())?
                        {
                            StatusRecorded::Advanced(stored)
                            | StatusRecorded::Unchanged(stored) => stored,
                        };
                        if !stored.status.is_final() {
                            still.push(id);
                        }
                    }
                    Err(error) => refused.push(format!("{id}: {error}")),
                }
            }
            if !args.wait || still.is_empty() || !refused.is_empty() {
                break;
            }
            tokio::time::sleep(Duration::from_secs(args.interval_seconds)).await;
            asking = still;
        }
    }
    let shown: Vec<Ingestion> = match &args.ingestion_id {
        Some(id) => store
            .get_ingestion(id)
            .await
            .map_err(|e| e.to_string())?
            .into_iter()
            .collect(),
        None => store.list_ingestions().await.map_err(|e| e.to_string())?,
    };
    if !shown.is_empty() {
        print_table(&shown);
    } else if refused.is_empty() {
        println!("no uploads recorded in {}", store.describe());
    }
    let failed: Vec<String> = shown
        .iter()
        .filter(|ingestion| ingestion.status.needs_attention())
        .map(|ingestion| format!("{} ended {}", ingestion.ingestion_id, ingestion.status))
        .collect();
    if refused.is_empty() && failed.is_empty() {
        Ok(())
    } else {
        Err(refused
            .into_iter()
            .chain(failed)
            .collect::<Vec<_>>()
            .join("\n"))
    }
}

fn print_table(ingestions: &[Ingestion]) {
    let rows: Vec<[String; 7]> = ingestions
        .iter()
        .map(|ingestion| {
            let upload = ingestion.upload.as_ref();
            [
                ingestion.ingestion_id.clone(),
                upload.map_or("-".into(), |u| {
                    let retried = if u.unanswered_attempts > 0 {
                        " retried"
                    } else {
                        ""
                    };
                    format!("{}/{}{retried}", u.call, u.calls)
                }),
                upload.map_or("-".into(), |u| u.items.to_string()),
                upload.map_or("-".into(), |u| u.price_book_version.clone()),
                ingestion.status.to_string(),
                ingestion.updated_at.format("%Y-%m-%d %H:%M:%S").to_string(),
                ingestion
                    .report_download_link
                    .clone()
                    .unwrap_or_else(|| "-".into()),
            ]
        })
        .collect();
    let header = [
        "INGESTION ID",
        "CALL",
        "ITEMS",
        "PRICE BOOK",
        "STATUS",
        "UPDATED (UTC)",
        "REPORT",
    ];
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        cells
            .iter()
            .zip(&widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect::<Vec<_>>()
            .join("  ")
            .trim_end()
            .to_owned()
    };
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{}", line(header.to_vec()));
    for row in &rows {
        let _ = writeln!(out, "{}", line(row.iter().map(String::as_str).collect()));
    }
    let retried = ingestions
        .iter()
        .any(|i| i.upload.as_ref().is_some_and(|u| u.unanswered_attempts > 0));
    let unknown = ingestions.iter().any(|i| i.upload.is_none());
    if retried || unknown {
        let _ = writeln!(
            out,
            "\n\"retried\": an attempt of that call got no answer before one was accepted; the Catalog API has no idempotency key, so Amazon may also hold an ingestion of that attempt. A call of \"-\" is an ingestion Amazon reported that no upload recorded here (such an attempt's, or another tool's)."
        );
    }
}
