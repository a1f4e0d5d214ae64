//! `jwo serve`: the whole ordering connector in one local process. The Create Purchases handler
//! and the checkout the Lambdas run, on the embedded store, with the built-in Checkout Service
//! simulator (or a real one).

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_credential_types::provider::SharedCredentialsProvider;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use checkout::Checkout;
use checkout::worker::{self, WorkerSettings};
use clap::Args;
use create_purchases::{Config, CreatePurchases, MAX_BODY_BYTES, PATH, PurchaseRequest};
use http::header::{CONTENT_TYPE, HOST, ORIGIN};
use http::{HeaderMap, Method, StatusCode, Uri};
use jwo_aws::amazon::checkout_client::{CHECKOUT_PATH, CheckoutClient};
use jwo_aws::amazon::sigv4;
use jwo_aws::sdk::signing_credentials;
use jwo_domain::catalog::price_book_versions::{CachedPriceBook, import_price_book};
use jwo_domain::contract::checkout::AmountBasis;
use jwo_domain::ports::{CurrentPriceBook, PriceBookStore};
use jwo_domain::pricing::PriceBook;
use jwo_local::catalog_files::LocalCatalog;
use jwo_local::embedded::EmbeddedPurchaseStore;
use jwo_local::fixed_price_book::SAMPLE_PRICE_BOOK;
use jwo_local::log_alerts::LocalAlerts;
use operator::Operator;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};

use crate::mcp::OperatorTools;
use operator::graphql::{GRAPHQL_PATH, OperatorSchema};
use operator::rest::{OperatorRequest, is_operator_path};
use serde_json::json;
use tokio::sync::watch;

use super::simulate::FaultArgs;
use crate::simulator::{ChargeLedger, CheckoutSimulator, SimulatorConfig, StoredCarts, router};

#[derive(Debug, Args)]
pub struct Serve {
    /// Address to listen on (port 0: any free port, printed at start).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Where purchases (and the built-in simulator's charges) are kept; created if missing.
    #[arg(long, value_name = "DIR", default_value = ".jwo")]
    pub data_dir: PathBuf,
    /// Import this price book (JSON) into the data directory's catalog before serving, as the
    /// next version if it differs from the current one. Without it, the current version is
    /// used (`jwo catalog import` changes it while serving), or the built-in sample is imported
    /// when there is none.
    #[arg(long, value_name = "FILE")]
    pub pricebook: Option<PathBuf>,
    /// How long a price book version is used before the catalog is asked for a newer one.
    #[arg(long, value_name = "SECONDS", default_value_t = jwo_domain::catalog::price_book_versions::DEFAULT_PRICE_BOOK_CACHE.as_secs())]
    pub price_book_cache_seconds: u64,
    /// Base URL of a real or external Checkout Service instead of the built-in simulator;
    /// requests go to {URL}/v1/checkout/carts, SigV4-signed with the standard AWS credential
    /// environment variables (or profile) for --region.
    #[arg(long, value_name = "URL")]
    pub checkout_url: Option<String>,
    /// Region of SigV4 signatures: those the checkout makes, and those --require-sigv4 checks.
    #[arg(long, default_value = "us-east-1")]
    pub region: String,
    /// Amount basis; defaults to the price book's `amountBasis` (line).
    #[arg(long, value_name = "line|unit")]
    pub basis: Option<AmountBasis>,
    /// Refuse (403) Create Purchases requests without a valid SigV4 signature (service
    /// execute-api, --region) by the key in AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, as API
    /// Gateway's IAM authorization would.
    #[arg(long)]
    pub require_sigv4: bool,
    /// A Host (and browser Origin) every route answers besides localhost, 127.0.0.1, ::1 and
    /// the --listen address; repeat for more. Any other is refused (403): a web page a browser
    /// was tricked into sending here (DNS rebinding) reaches nothing.
    #[arg(long = "allowed-host", value_name = "HOST")]
    pub allowed_hosts: Vec<String>,
    /// Listen on a non-loopback --listen address without --require-sigv4: anyone who can reach
    /// it may then create, complete and cancel purchases. Refused unless given.
    #[arg(long)]
    pub allow_unsigned_network: bool,
    /// Seconds a client has to send a request's headers, and an idle kept-alive connection to
    /// start its next request, before the connection is closed.
    #[arg(long, value_name = "SECONDS", default_value_t = crate::http_server::HEADER_READ_TIMEOUT.as_secs(), value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub header_read_timeout_seconds: u64,
    /// Connections open at once; more wait until one closes.
    #[arg(long, value_name = "N", default_value_t = crate::http_server::MAX_CONNECTIONS as u32, value_parser = clap::value_parser!(u32).range(1..=65_536))]
    pub max_connections: u32,
    /// Faults the built-in simulator injects (lost answers, repeats answered 409 or 400, ...),
    /// to try the connector's unhappy paths; not with --checkout-url.
    #[command(flatten, next_help_heading = "Built-in simulator faults")]
    pub simulator_faults: FaultArgs,
}

pub fn run(args: Serve) -> ExitCode {
    crate::init_tracing();
    super::run_to_exit(serve(args))
}

type PriceBooks = Arc<CachedPriceBook<LocalCatalog>>;
type Service = CreatePurchases<EmbeddedPurchaseStore, LocalAlerts, PriceBooks>;
type OperatorService = Operator<EmbeddedPurchaseStore, LocalAlerts, CheckoutClient, PriceBooks>;

struct Connector {
    service: Service,
    /// The operator routes (`/v1/purchases…`, `/v1/price`), over the checkout's own ports.
    operator: Arc<OperatorService>,
    /// The same routes as GraphQL (`POST /graphql`).
    graphql: OperatorSchema,
    /// The key incoming requests must be signed with (--require-sigv4).
    required_signer: Option<Credentials>,
    region: String,
}

/// The local credentials of the built-in simulator: made up per start, known to both sides.
fn local_checkout_credentials() -> Credentials {
    Credentials::new(
        "AKIDJWOLOCALCHECKOUT",
        uuid::Uuid::new_v4().simple().to_string(),
        None,
        None,
        "jwo-serve",
    )
}

/// The catalog in the data directory, with `--pricebook` (or, in an empty catalog, the
/// built-in sample) imported.
async fn open_catalog(data_dir: &Path, pricebook: Option<&Path>) -> Result<LocalCatalog, String> {
    let catalog = LocalCatalog::open(data_dir.join("catalog"))
        .map_err(|error| format!("--data-dir {}: {error}", data_dir.display()))?;
    let (book, source) = match pricebook {
        Some(path) => (
            crate::commands::catalog::read_price_book_file(path, None)
                .map_err(|error| format!("--pricebook {error}"))?,
            path.display().to_string(),
        ),
        None if catalog.head().await.map_err(|e| e.to_string())?.is_none() => (
            PriceBook::from_json(SAMPLE_PRICE_BOOK.as_bytes())
                .expect("the sample price book is valid"),
            "built-in sample".to_owned(),
        ),
        None => return Ok(catalog),
    };
    import_price_book(&catalog, &book, &source)
        .await
        .map_err(|error| error.to_string())?;
    Ok(catalog)
}

async fn serve(args: Serve) -> Result<(), String> {
    std::fs::create_dir_all(&args.data_dir)
        .map_err(|error| format!("--data-dir {}: {error}", args.data_dir.display()))?;
    let store_path = args.data_dir.join("purchases.redb");
    let (store, ready) = EmbeddedPurchaseStore::open_with_ready_queue(&store_path)
        .map_err(|error| format!("--data-dir {}: {error}", args.data_dir.display()))?;
    let catalog = open_catalog(&args.data_dir, args.pricebook.as_deref()).await?;
    let price_books = Arc::new(CachedPriceBook::new(
        catalog,
        std::time::Duration::from_secs(args.price_book_cache_seconds),
    ));
    let price_book = price_books.current().await.map_err(|e| e.to_string())?;
    let price_book_name = price_books
        .versions()
        .head()
        .await
        .map_err(|e| e.to_string())?
        .map(|head| head.source)
        .unwrap_or_default();
    let basis = args.basis.unwrap_or(price_book.book.amount_basis);
    let required_signer = if args.require_sigv4 {
        Some(
            signing_credentials(&args.region, "--require-sigv4")
                .await?
                .1,
        )
    } else {
        None
    };

    if !args.listen.ip().is_loopback() && !args.require_sigv4 && !args.allow_unsigned_network {
        return Err(format!(
            "--listen {}: not a loopback address, and requests would not need a signature; add --require-sigv4, or --allow-unsigned-network if anyone who can reach it may change purchases",
            args.listen
        ));
    }
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|error| format!("cannot listen on {}: {error}", args.listen))?;
    let address = listener.local_addr().map_err(|error| error.to_string())?;
    let base = format!("http://{address}");

    // The checkout's target: the built-in simulator on this same listener, or --checkout-url.
    let (client, simulator_routes, checkout_target) = match &args.checkout_url {
        None => {
            let credentials = local_checkout_credentials();
            let ledger_path = args.data_dir.join("checkout-simulator.jsonl");
            let ledger = ChargeLedger::open(&ledger_path)?;
            let simulator = CheckoutSimulator::remembering(
                SimulatorConfig {
                    region: args.region.clone(),
                    credentials: vec![credentials.clone()],
                    basis,
                    faults: args.simulator_faults.faults(),
                },
                StoredCarts(store.clone()),
                ledger,
            );
            let client = CheckoutClient::new(
                &base,
                &args.region,
                SharedCredentialsProvider::new(credentials),
            )?;
            (
                client,
                Some(router(Arc::new(simulator))),
                format!(
                    "built-in Checkout Service simulator, {base}{CHECKOUT_PATH} (charges: GET {base}/_simulator/stats)"
                ),
            )
        }
        Some(_) if args.simulator_faults.any() => {
            return Err(
                "the fault flags (--lose-answer-every, --repeat-answer, --failure-percent, ...) are the built-in simulator's; they do not apply with --checkout-url".into(),
            );
        }
        Some(url) => {
            let (provider, _) = signing_credentials(&args.region, "--checkout-url").await?;
            let client = CheckoutClient::new(url, &args.region, provider)
                .map_err(|error| format!("--checkout-url: {error}"))?;
            let target = format!(
                "{}{CHECKOUT_PATH} (SigV4, {})",
                url.trim_end_matches('/'),
                args.region
            );
            (client, None, target)
        }
    };

    let alerts_for_checkout = LocalAlerts::new(1000);
    let checkout = Arc::new(Checkout::new(
        store.clone(),
        alerts_for_checkout,
        client,
        Arc::clone(&price_books),
        checkout::Config::default(),
    ));
    let operator = Arc::new(Operator::new(Arc::clone(&checkout)));
    let connector = Arc::new(Connector {
        graphql: operator::graphql::schema(operator.clone()),
        operator,
        service: CreatePurchases::new(
            store,
            LocalAlerts::new(1000),
            price_books,
            Config {
                basis: Some(basis),
                ..Config::default()
            },
        ),
        required_signer,
        region: args.region.clone(),
    });
    // MCP over streamable HTTP, on the same routes as everything else: off under
    // --require-sigv4 (MCP clients do not sign), `jwo mcp --endpoint … --sign` is for that.
    let mcp_stop = tokio_util::sync::CancellationToken::new();
    let hosts = allowed_hosts(&args);
    let mcp: Router = match &connector.required_signer {
        None => {
            let tools = OperatorTools::new(connector.operator.clone(), local_actor());
            Router::new().nest_service(
                MCP_PATH,
                StreamableHttpService::new(
                    move || Ok(tools.clone()),
                    Arc::new(LocalSessionManager::default()),
                    StreamableHttpServerConfig::default()
                        .with_allowed_hosts(hosts.clone())
                        .with_cancellation_token(mcp_stop.child_token()),
                ),
            )
        }
        Some(_) => Router::new().route(MCP_PATH, axum::routing::any(mcp_refused)),
    };
    let mut app = Router::new()
        .route("/healthz", get(healthz))
        .fallback(handle_request)
        .with_state(connector)
        // The handler answers oversized bodies itself (413, in its own words).
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES + 1));
    if let Some(simulator) = simulator_routes {
        app = app.merge(simulator);
    }
    let app = app
        .merge(mcp)
        .layer(axum::middleware::from_fn_with_state(Arc::new(hosts), guard));

    let (stop, stopped) = watch::channel(false);
    tokio::spawn(async move {
        wait_for_signal().await;
        let _ = stop.send(true);
    });
    let worker = tokio::spawn(worker::run(
        Arc::clone(&checkout),
        ready,
        WorkerSettings::default(),
        until_stopped(stopped.clone()),
    ));

    print_banner(
        &args,
        &base,
        &price_book_name,
        &price_book.version,
        basis,
        &checkout_target,
    );
    let stopping = until_stopped(stopped.clone());
    let limits = crate::http_server::Limits {
        header_read_timeout: std::time::Duration::from_secs(args.header_read_timeout_seconds),
        max_connections: args.max_connections as usize,
    };
    crate::http_server::serve(listener, app, limits, async move {
        stopping.await;
        mcp_stop.cancel();
    })
    .await;
    // Every acknowledged purchase is already committed; let checkouts under way finish.
    let _ = worker.await;
    let _ = writeln!(std::io::stdout(), "jwo serve stopped");
    Ok(())
}

async fn until_stopped(mut stopped: watch::Receiver<bool>) {
    let _ = stopped.wait_for(|stopped| *stopped).await;
}

/// Ctrl-C, or SIGTERM (a service manager, `kill`).
async fn wait_for_signal() {
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        () = terminate => {}
    }
}

fn print_banner(
    args: &Serve,
    base: &str,
    price_book: &str,
    version: &str,
    basis: AmountBasis,
    checkout: &str,
) {
    let signing = if args.require_sigv4 {
        format!(
            " \\\n    --aws-sigv4 'aws:amz:{}:execute-api' --user \"$AWS_ACCESS_KEY_ID:$AWS_SECRET_ACCESS_KEY\"",
            args.region
        )
    } else {
        String::new()
    };
    // A banner nobody reads (a closed stdout) must not stop the server.
    let _ = writeln!(
        std::io::stdout(),
        "jwo serve: ordering connector listening on {base}\n  \
         POST {base}{PATH}   Create Purchases{}\n  \
         GET  {base}/healthz\n  \
         data:       {} (purchases.redb, catalog/)\n  \
         price book: {version} from {price_book}, {basis} basis (`jwo catalog import FILE` adds a version)\n  \
         checkout:   {checkout}\n\
         Try it:\n  \
         curl -s {base}{PATH} -H 'content-type: application/json' \\\n    \
         --data @tests/fixtures/create_purchases/1.02_multi_item_cart.json{signing}\n\
         Ctrl-C stops it; every acknowledged purchase is on disk, and a restart resumes checkout.",
        if args.require_sigv4 {
            " (SigV4 required)"
        } else {
            ""
        },
        args.data_dir.display(),
    );
    let _ = std::io::stdout().flush();
}

/// Where MCP is served (streamable HTTP).
const MCP_PATH: &str = "/mcp";

/// Who the purchase's history says made a change through an unsigned route.
fn local_actor() -> String {
    format!(
        "local:{}",
        std::env::var("USER").unwrap_or_else(|_| "unknown".into())
    )
}

/// The Host names every route answers: loopback's, the address listened on (unless it is
/// every address), and those named with --allowed-host.
fn allowed_hosts(args: &Serve) -> Vec<String> {
    let mut hosts: Vec<String> = ["localhost", "127.0.0.1", "::1"].map(String::from).to_vec();
    if !args.listen.ip().is_unspecified() {
        hosts.push(args.listen.ip().to_string());
    }
    hosts.extend(args.allowed_hosts.iter().cloned());
    hosts
}

/// The host of a `Host` header or an `Origin` (scheme, port and IPv6 brackets dropped).
fn host_name(value: &str) -> &str {
    let authority = value.split_once("://").map_or(value, |(_, rest)| rest);
    let authority = authority.split('/').next().unwrap_or_default();
    match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => authority.split(':').next().unwrap_or_default(),
    }
}

/// Refuses a request whose Host, or browser Origin, is not one this server was told of, and
/// an operator change (or GraphQL) that is not JSON, so a web page cannot drive the operator
/// routes from a browser (DNS rebinding, or a form's plain-text POST without a preflight).
async fn guard(
    State(hosts): State<Arc<Vec<String>>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let headers = request.headers();
    let text = |name| {
        headers
            .get(name)
            .and_then(|v: &http::HeaderValue| v.to_str().ok())
    };
    let allowed = |value: &str| hosts.iter().any(|host| host == host_name(value));
    for (name, value) in [("Host", text(HOST)), ("Origin", text(ORIGIN))] {
        if let Some(value) = value.filter(|value| !allowed(value)) {
            let body = json!({ "message": format!("{name} '{value}' is not one this server answers ({}); start it with --allowed-host to add one", hosts.join(", ")) });
            return (StatusCode::FORBIDDEN, axum::Json(body)).into_response();
        }
    }
    let path = request.uri().path();
    // What the built-in simulator charged is for this machine's eyes only.
    if path.starts_with(SIMULATOR_PAGES) && !crate::http_server::from_loopback(&request) {
        let body = json!({ "message": format!("{path} is answered on loopback only") });
        return (StatusCode::FORBIDDEN, axum::Json(body)).into_response();
    }
    let changes = request.method() == Method::POST || request.method() == Method::PATCH;
    let json = text(CONTENT_TYPE).is_some_and(|kind| kind.starts_with("application/json"));
    if changes && (is_operator_path(path) || path == GRAPHQL_PATH) && !json {
        let body = json!({ "message": "send the body as JSON (Content-Type: application/json)" });
        return (StatusCode::UNSUPPORTED_MEDIA_TYPE, axum::Json(body)).into_response();
    }
    next.run(request).await
}

/// The built-in simulator's own pages (`/_simulator/stats`).
const SIMULATOR_PAGES: &str = "/_simulator/";

async fn mcp_refused() -> Response {
    let body = json!({ "message": "MCP over HTTP is off under --require-sigv4 (MCP clients do not sign); run `jwo mcp --endpoint URL --sign`, which signs, instead" });
    (StatusCode::FORBIDDEN, axum::Json(body)).into_response()
}

async fn healthz() -> Response {
    (StatusCode::OK, axum::Json(json!({ "status": "ok" }))).into_response()
}

/// Create Purchases and the operator routes, behind the same signature check.
async fn handle_request(
    State(connector): State<Arc<Connector>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Some(signer) = &connector.required_signer {
        let path = uri.path_and_query().map_or(uri.path(), |p| p.as_str());
        let known = |key: &str| (key == signer.access_key_id()).then(|| signer.clone());
        if let Err(error) = sigv4::verify_request(
            method.as_str(),
            path,
            &headers,
            &body,
            known,
            &connector.region,
            SystemTime::now(),
        ) {
            let body = json!({ "message": format!("SigV4 authorization failed: {error}") });
            return (StatusCode::FORBIDDEN, axum::Json(body)).into_response();
        }
    }
    if is_operator_path(uri.path()) || uri.path() == GRAPHQL_PATH {
        // Who changed what, in the purchase's history: the signing key, or the local user.
        let actor = match &connector.required_signer {
            Some(signer) => format!("sigv4:{}", signer.access_key_id()),
            None => local_actor(),
        };
        let answer = if uri.path() == GRAPHQL_PATH {
            if method != Method::POST {
                let body = json!({ "message": "GraphQL is POST /graphql" });
                return (StatusCode::METHOD_NOT_ALLOWED, axum::Json(body)).into_response();
            }
            operator::graphql::execute(&connector.graphql, &actor, &body).await
        } else {
            connector
                .operator
                .handle(OperatorRequest {
                    method: method.as_str(),
                    path: uri.path(),
                    query: uri.query(),
                    body: &body,
                    actor: &actor,
                })
                .await
        };
        let status =
            StatusCode::from_u16(answer.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        return (status, [(CONTENT_TYPE, "application/json")], answer.body).into_response();
    }
    let content_type = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok());
    connector
        .service
        .handle(PurchaseRequest {
            method: method.as_str(),
            path: uri.path(),
            content_type,
            caller_arn: None,
            body: &body,
        })
        .await
        .into_http()
        .map(axum::body::Body::from)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::extract::ConnectInfo;
    use tower::ServiceExt;

    /// The simulator's pages answer a peer on this machine, and no other.
    #[tokio::test]
    async fn the_simulator_pages_answer_loopback_only() {
        let hosts = Arc::new(vec!["127.0.0.1".to_owned(), "10.0.0.7".to_owned()]);
        let app = Router::new()
            .route("/_simulator/stats", get(healthz))
            .route("/healthz", get(healthz))
            .layer(axum::middleware::from_fn_with_state(hosts, guard));
        let status = |path: &'static str, peer: &'static str| {
            let app = app.clone();
            async move {
                let mut request = http::Request::get(path)
                    .header(HOST, "10.0.0.7:8080")
                    .body(axum::body::Body::empty())
                    .unwrap();
                let peer: SocketAddr = peer.parse().unwrap();
                request.extensions_mut().insert(ConnectInfo(peer));
                app.oneshot(request).await.unwrap().status()
            }
        };
        assert_eq!(
            status("/_simulator/stats", "127.0.0.1:5000").await,
            StatusCode::OK
        );
        assert_eq!(
            status("/_simulator/stats", "[::1]:5000").await,
            StatusCode::OK
        );
        assert_eq!(
            status("/_simulator/stats", "10.0.0.9:5000").await,
            StatusCode::FORBIDDEN
        );
        assert_eq!(status("/healthz", "10.0.0.9:5000").await, StatusCode::OK);
    }
}
