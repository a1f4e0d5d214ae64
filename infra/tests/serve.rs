//! `jwo serve` as a process, end to end: Amazon's connectivity test against it, a load of carts
//! interrupted by `kill -9`, a restart on the same data directory, and the proof that every
//! acknowledged purchase was charged exactly once; and a graceful stop that loses nothing.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use jwo::purchases_endpoint::PurchasesEndpoint;
use jwo_test_support::{Killed, fixtures};
use serde_json::{Value, json};

/// A `jwo serve` process on a free port, and its base URL.
fn serve(data_dir: &Path) -> (Killed, String) {
    serve_with(data_dir, &[], &[])
}

fn serve_with(data_dir: &Path, flags: &[&str], env: &[(&str, &str)]) -> (Killed, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_jwo"))
        .args(["serve", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(data_dir)
        .args(flags)
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("jwo serve starts");
    let banner = child.stdout.take().unwrap();
    let mut lines = BufReader::new(banner).lines();
    let first = lines.next().expect("a banner").unwrap();
    let base = first
        .rsplit(' ')
        .next()
        .filter(|url| url.starts_with("http://"))
        .unwrap_or_else(|| panic!("no URL in the banner: {first}"))
        .to_owned();
    // Keep reading the banner (and "stopped") so the pipe never fills or breaks.
    std::thread::spawn(move || lines.for_each(drop));
    (Killed(child), base)
}

fn cart(trip: &str) -> Vec<u8> {
    let mut body: Value = serde_json::from_slice(
        &std::fs::read(fixtures("create_purchases/1.02_multi_item_cart.json")).unwrap(),
    )
    .unwrap();
    body["idempotentShoppingTripId"] = json!(trip);
    body.to_string().into_bytes()
}

async fn wait_until_healthy(endpoint: &PurchasesEndpoint) {
    let start = Instant::now();
    while endpoint.get_json("/healthz").await != Some(json!({ "status": "ok" })) {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "jwo serve never became healthy"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until the built-in simulator has charged every one of `trips` (store STORE-001), then
/// returns its stats.
async fn charged(endpoint: &PurchasesEndpoint, trips: &BTreeSet<String>) -> Value {
    let start = Instant::now();
    loop {
        let stats = endpoint.get_json("/_simulator/stats").await.expect("stats");
        let charges = stats["charges"].as_object().unwrap();
        if trips
            .iter()
            .all(|trip| charges.contains_key(&format!("STORE-001/{trip}")))
        {
            return stats;
        }
        assert!(
            start.elapsed() < Duration::from_secs(90),
            "not every acknowledged purchase was checked out: {stats}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

fn signal(child: &Child, signal: &str) {
    let status = Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connectivity_test_passes_and_a_kill_9_mid_load_loses_and_doubles_nothing() {
    let data = tempfile::tempdir().unwrap();
    let (mut server, base) = serve(data.path());
    let endpoint = Arc::new(PurchasesEndpoint::new(&base, None).unwrap());
    wait_until_healthy(&endpoint).await;

    // Amazon's published cases, through the command itself.
    let output = Command::new(env!("CARGO_BIN_EXE_jwo"))
        .args(["connectivity-test", "--json", "--endpoint", &base])
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert!(output.status.success(), "{report:#}");
    assert_eq!(
        (report["passed"].as_u64(), report["failed"].as_u64()),
        (Some(67), Some(0))
    );

    // A steady load from 4 senders; the server is killed while it runs.
    let acknowledged = Arc::new(std::sync::Mutex::new(BTreeSet::new()));
    let mut senders = Vec::new();
    for sender in 0..4 {
        let endpoint = Arc::clone(&endpoint);
        let acknowledged = Arc::clone(&acknowledged);
        senders.push(tokio::spawn(async move {
            for n in 0.. {
                let trip = format!("kill-{sender}-{n}");
                match endpoint.post(&cart(&trip)).await {
                    Ok((201, _)) => {
                        acknowledged.lock().unwrap().insert(trip);
                    }
                    Ok((status, body)) => panic!("{status}: {}", String::from_utf8_lossy(&body)),
                    // The server is gone.
                    Err(_) => return,
                }
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
        }));
    }
    while acknowledged.lock().unwrap().len() < 300 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    signal(&server.0, "-KILL");
    let _ = server.0.wait();
    for sender in senders {
        sender.await.unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();

    // Restarted on the same data directory, it checks out whatever was left.
    let (restarted, base) = serve(data.path());
    let endpoint = PurchasesEndpoint::new(&base, None).unwrap();
    wait_until_healthy(&endpoint).await;
    let stats = charged(&endpoint, &acknowledged).await;
    let charges = stats["charges"].as_object().unwrap();
    for trip in &acknowledged {
        assert_eq!(charges[&format!("STORE-001/{trip}")], 1, "{trip}: {stats}");
    }
    assert!(
        charges.values().all(|count| count == 1),
        "a trip charged twice: {stats}"
    );
    println!(
        "{} acknowledged before kill -9, all charged once; {} repeat submissions after the restart",
        acknowledged.len(),
        stats["duplicates"]
    );
    drop(restarted);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_graceful_stop_keeps_every_purchase_and_a_restart_submits_nothing_twice() {
    let data = tempfile::tempdir().unwrap();
    let (mut server, base) = serve(data.path());
    let endpoint = PurchasesEndpoint::new(&base, None).unwrap();
    wait_until_healthy(&endpoint).await;
    let mut trips = BTreeSet::new();
    for n in 0..20 {
        let trip = format!("graceful-{n}");
        assert_eq!(endpoint.post(&cart(&trip)).await.unwrap().0, 201);
        trips.insert(trip);
    }
    let before = charged(&endpoint, &trips).await;

    signal(&server.0, "-INT");
    let status = server.0.wait().unwrap();
    assert!(status.success(), "{status:?}");

    let (_restarted, base) = serve(data.path());
    let endpoint = PurchasesEndpoint::new(&base, None).unwrap();
    wait_until_healthy(&endpoint).await;
    // A replay of a trip after the restart is the same purchase, not a new one.
    let (status, body) = endpoint.post(&cart("graceful-0")).await.unwrap();
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = endpoint.get_json("/_simulator/stats").await.unwrap();
    assert_eq!(
        after["charges"], before["charges"],
        "the ledger outlives the process"
    );
    assert_eq!(
        after["duplicates"], 0,
        "a restart submitted a completed purchase again"
    );
}

/// `jwo` with `args` and `env`: its exit status and standard output.
fn jwo(args: &[&str], env: &[(&str, &str)]) -> (bool, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_jwo"))
        .args(args)
        .envs(env.iter().copied())
        .output()
        .unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_require_sigv4_only_signed_calls_get_in() {
    let data = tempfile::tempdir().unwrap();
    let key = [
        ("AWS_ACCESS_KEY_ID", "AKIDORDERINGGATEWAY"),
        ("AWS_SECRET_ACCESS_KEY", "gateway-secret"),
    ];
    let (_server, base) = serve_with(data.path(), &["--require-sigv4"], &key);
    wait_until_healthy(&PurchasesEndpoint::new(&base, None).unwrap()).await;

    let (passed, unsigned) = jwo(&["connectivity-test", "--json", "--endpoint", &base], &[]);
    let unsigned: Value = serde_json::from_str(&unsigned).unwrap();
    assert!(!passed);
    assert_eq!(unsigned["passed"], 0, "{unsigned:#}");
    assert_eq!(unsigned["cases"][0]["got"], 403);

    let wrong = [
        ("AWS_ACCESS_KEY_ID", "AKIDORDERINGGATEWAY"),
        ("AWS_SECRET_ACCESS_KEY", "not-it"),
    ];
    let (passed, _) = jwo(
        &["connectivity-test", "--sign", "--endpoint", &base],
        &wrong,
    );
    assert!(!passed, "a wrong secret was let in");

    let (passed, signed) = jwo(&["connectivity-test", "--sign", "--endpoint", &base], &key);
    assert!(passed, "{signed}");
    assert!(signed.contains("67 of 67 cases passed"), "{signed}");

    // GraphQL needs the signature like every route; MCP over HTTP is off (clients do not sign).
    let unsigned = PurchasesEndpoint::new(&base, None).unwrap();
    let (status, _) = unsigned
        .call(
            http::Method::POST,
            "/graphql",
            br#"{"query":"{ purchases { nodes { purchaseId } } }"}"#,
        )
        .await
        .unwrap();
    assert_eq!(status, 403);
    let (status, said) = unsigned
        .call(http::Method::POST, "/mcp", b"{}")
        .await
        .unwrap();
    assert_eq!(status, 403);
    assert!(String::from_utf8_lossy(&said).contains("jwo mcp"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jwo_load_reports_latencies_and_proves_exactly_once() {
    let data = tempfile::tempdir().unwrap();
    let (_server, base) = serve(data.path());
    wait_until_healthy(&PurchasesEndpoint::new(&base, None).unwrap()).await;
    let (passed, report) = jwo(
        &[
            "load",
            "--endpoint",
            &base,
            "--rate",
            "100",
            "--duration",
            "2",
            "--lines",
            "5",
        ],
        &[],
    );
    assert!(passed, "{report}");
    assert!(report.contains("201 answers: n=200 "), "{report}");
    assert!(report.contains("p99="), "{report}");
    assert!(report.contains("errors: 0"), "{report}");
    assert!(
        report.contains("200 of 200 acknowledged carts charged exactly once"),
        "{report}"
    );
}

/// The Checkout Service in its own process, as Amazon's is: `jwo simulate checkout` knows the
/// carts `jwo load` tells it (not the connector's store), `jwo serve` signs its submissions for
/// it, and every acknowledged cart is charged there exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jwo_load_against_a_simulator_in_its_own_process_proves_exactly_once() {
    let key = [
        ("AWS_ACCESS_KEY_ID", "AKIDCHECKOUTSIM"),
        ("AWS_SECRET_ACCESS_KEY", "checkout-sim-secret"),
    ];
    let mut simulator = Command::new(env!("CARGO_BIN_EXE_jwo"))
        .args(["simulate", "checkout", "--listen", "127.0.0.1:0"])
        .envs(key)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut banner = BufReader::new(simulator.stdout.take().unwrap()).lines();
    let first = banner.next().unwrap().unwrap();
    let _simulator = Killed(simulator);
    std::thread::spawn(move || banner.for_each(drop));
    let simulator_url = first.rsplit(' ').next().unwrap().to_owned();
    assert!(simulator_url.starts_with("http://127.0.0.1:"), "{first}");

    let data = tempfile::tempdir().unwrap();
    let (_server, base) = serve_with(
        data.path(),
        &["--checkout-url", &simulator_url, "--region", "us-east-1"],
        &key,
    );
    wait_until_healthy(&PurchasesEndpoint::new(&base, None).unwrap()).await;
    let (passed, report) = jwo(
        &[
            "load",
            "--endpoint",
            &base,
            "--rate",
            "100",
            "--duration",
            "2",
            "--lines",
            "5",
            "--checkout-simulator",
            &simulator_url,
        ],
        &[],
    );
    assert!(passed, "{report}");
    assert!(report.contains("errors: 0"), "{report}");
    assert!(
        report.contains("200 of 200 acknowledged carts charged exactly once"),
        "{report}"
    );
    let stats = PurchasesEndpoint::new(&simulator_url, None)
        .unwrap()
        .get_json("/_simulator/stats")
        .await
        .unwrap();
    assert_eq!(stats["charges"].as_object().unwrap().len(), 200, "{stats}");
    assert_eq!(stats["rejections"], json!({}), "{stats}");
}

/// Given `jwo serve` pricing from its catalog (cache 0 s: the catalog is asked on every cart),
/// when `jwo catalog import` adds a version where SKU-002 costs 4.49 instead of 3.49,
/// then the next cart is priced from it: 9.72 becomes 10.80 (4.49 − 0.50 + round2(3.99 ×
/// 0.0825) = 4.32 for that line, 1.08 more), while a replay of the first is still as v1 priced it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_price_book_imported_while_serving_prices_the_next_cart() {
    let data = tempfile::tempdir().unwrap();
    let (_server, base) = serve_with(data.path(), &["--price-book-cache-seconds", "0"], &[]);
    let endpoint = PurchasesEndpoint::new(&base, None).unwrap();
    wait_until_healthy(&endpoint).await;
    let total = |answer: &[u8]| -> String {
        let body: Value = serde_json::from_slice(answer).unwrap();
        body["orderTotals"]["priceTotal"]["amount"]
            .as_str()
            .unwrap_or_else(|| panic!("no total in {body}"))
            .to_owned()
    };
    let (status, answer) = endpoint.post(&cart("priced-v1")).await.unwrap();
    assert_eq!(status, 201);
    assert_eq!(total(&answer), "9.72");

    let dearer = data.path().join("dearer.json");
    std::fs::write(
        &dearer,
        std::fs::read_to_string(jwo_test_support::sample_price_book())
            .unwrap()
            .replace("\"3.49\"", "\"4.49\""),
    )
    .unwrap();
    let import = Command::new(env!("CARGO_BIN_EXE_jwo"))
        .args(["catalog", "import"])
        .arg(&dearer)
        .arg("--data-dir")
        .arg(data.path())
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&import.stdout);
    assert!(import.status.success(), "{said}");
    assert!(said.contains("as price book v2"), "{said}");

    let (status, answer) = endpoint.post(&cart("priced-v2")).await.unwrap();
    assert_eq!(status, 201);
    assert_eq!(total(&answer), "10.80");
    // The first purchase, replayed, is still what v1 priced.
    let (status, answer) = endpoint.post(&cart("priced-v1")).await.unwrap();
    assert_eq!(status, 201);
    assert_eq!(total(&answer), "9.72");
}

/// The carts of a lost-answers run, and what became of them.
struct LostAnswersRun {
    acknowledged: BTreeSet<String>,
    completed: usize,
    held: usize,
    lost_answers_seen: u64,
}

/// `jwo serve` whose built-in simulator charges every trip but loses the answer of every third
/// first charge (it comes after the client stopped waiting) and answers repeats as `repeat`
/// says; the connector is `kill -9`ed at a random moment while carts arrive and again at a
/// random moment while they are checked out, and restarted on the same data each time. Then
/// every acknowledged cart was charged exactly once (the simulator's durable ledger), none is
/// Canceled or was alerted "not charged", each Completed one carries the simulator's orderId,
/// and each one not Completed is held for reconciliation (still Open, CheckoutOutcomeUnknown,
/// its alert published) and was charged.
async fn lost_answers_with_kills(repeat: &str) -> LostAnswersRun {
    use jwo_domain::alerts::AlertKind;
    use jwo_domain::ports::PurchaseStore;
    use jwo_domain::pricing::ConstraintKind;
    use jwo_domain::purchase::{PurchaseState, purchase_id};

    let data = tempfile::tempdir().unwrap();
    let flags = [
        "--lose-answer-every",
        "3",
        "--repeat-answer",
        repeat,
        // Longer than the local worker's 7 s for an attempt: the answer is never seen.
        "--hang-ms",
        "9000",
    ];
    let start = || async {
        let (server, base) = serve_with(data.path(), &flags, &[]);
        let endpoint = PurchasesEndpoint::new(&base, None).unwrap();
        wait_until_healthy(&endpoint).await;
        (server, endpoint)
    };
    let trips: Vec<String> = (0..30).map(|n| format!("lost-{repeat}-{n}")).collect();
    let kill_after = fastrand::usize(5..25);
    let mut acknowledged = BTreeSet::new();
    let mut lost_answers_seen = 0;
    let (mut server, mut endpoint) = start().await;
    for (n, trip) in trips.iter().enumerate() {
        if n == kill_after {
            signal(&server.0, "-KILL");
            let _ = server.0.wait();
            (server, endpoint) = start().await;
        }
        // The connector keeps answering: every cart is acknowledged.
        let (status, body) = endpoint.post(&cart(trip)).await.unwrap();
        assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
        acknowledged.insert(trip.clone());
    }
    // A second kill while the checkouts (and lost answers) are under way.
    tokio::time::sleep(Duration::from_millis(fastrand::u64(500..8000))).await;
    let stats = endpoint.get_json("/_simulator/stats").await.unwrap();
    lost_answers_seen += stats["lostAnswers"].as_u64().unwrap();
    signal(&server.0, "-KILL");
    let _ = server.0.wait();

    // Restarted until every purchase is settled: Completed, or held for a person.
    let settle_by = Instant::now() + Duration::from_secs(150);
    let store_path = data.path().join("purchases.redb");
    loop {
        let (server, endpoint) = start().await;
        tokio::time::sleep(Duration::from_secs(20)).await;
        let stats = endpoint.get_json("/_simulator/stats").await.unwrap();
        lost_answers_seen += stats["lostAnswers"].as_u64().unwrap();
        signal(&server.0, "-INT");
        drop(server);
        let store = jwo_local::embedded::EmbeddedPurchaseStore::open(&store_path).unwrap();
        let mut settled = true;
        for trip in &acknowledged {
            let purchase = store
                .get(&purchase_id("STORE-001", trip))
                .await
                .unwrap()
                .unwrap();
            settled &= purchase.state == PurchaseState::Completed
                || purchase
                    .constraints
                    .iter()
                    .any(|c| c.kind == ConstraintKind::CheckoutOutcomeUnknown);
        }
        drop(store);
        if settled {
            break;
        }
        assert!(Instant::now() < settle_by, "purchases never settled");
    }

    // The simulator's durable ledger: the order each trip was charged under.
    let ledger = std::fs::read_to_string(data.path().join("checkout-simulator.jsonl")).unwrap();
    let mut orders = std::collections::BTreeMap::<String, Vec<String>>::new();
    for line in ledger.lines() {
        let charge: Value = serde_json::from_str(line).unwrap();
        orders
            .entry(charge["tripId"].as_str().unwrap().to_owned())
            .or_default()
            .push(charge["orderId"].as_str().unwrap().to_owned());
    }
    let store = jwo_local::embedded::EmbeddedPurchaseStore::open(&store_path).unwrap();
    let (mut completed, mut held) = (0, 0);
    for trip in &acknowledged {
        let charged = orders.get(trip).map(Vec::as_slice).unwrap_or_default();
        assert_eq!(charged.len(), 1, "{trip} charged {charged:?}");
        let purchase = store
            .get(&purchase_id("STORE-001", trip))
            .await
            .unwrap()
            .unwrap();
        assert_ne!(purchase.state, PurchaseState::Canceled, "{trip}");
        assert!(!purchase.was_alerted(AlertKind::CheckoutDeclined), "{trip}");
        match purchase.state {
            PurchaseState::Completed => {
                completed += 1;
                assert_eq!(
                    purchase.order_id.as_deref(),
                    Some(charged[0].as_str()),
                    "{trip}"
                );
            }
            _ => {
                held += 1;
                assert!(purchase.outcome_unknown, "{trip}");
                assert!(
                    purchase.was_alerted(AlertKind::CheckoutOutcomeUnknown),
                    "{trip}"
                );
                assert!(purchase.pending_alerts.is_empty(), "{trip}");
            }
        }
    }
    LostAnswersRun {
        acknowledged,
        completed,
        held,
        lost_answers_seen,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lost_answers_and_kill_9_with_repeats_answered_201_all_complete_with_the_first_order() {
    let run = lost_answers_with_kills("201").await;
    assert_eq!(run.held, 0);
    assert_eq!(run.completed, run.acknowledged.len());
    println!(
        "repeats 201: {} carts, {} answers lost (counted between kills), {} completed, {} held",
        run.acknowledged.len(),
        run.lost_answers_seen,
        run.completed,
        run.held
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lost_answers_and_kill_9_with_repeats_refused_are_held_never_declined() {
    for repeat in ["409", "400"] {
        let run = lost_answers_with_kills(repeat).await;
        assert!(run.held > 0, "no answer was lost");
        assert_eq!(run.completed + run.held, run.acknowledged.len());
        println!(
            "repeats {repeat}: {} carts, {} answers lost (counted between kills), {} completed, {} held for reconciliation",
            run.acknowledged.len(),
            run.lost_answers_seen,
            run.completed,
            run.held
        );
    }
}

/// The operator routes on `jwo serve`, end to end with the built-in simulator: a cart with a
/// SKU the book lacks is held and alerted; the SKU is imported (`jwo catalog import`); a
/// `PATCH` reprices it, a `complete` submits it, and it ends Completed with the orderId the
/// simulator charged it under, once. Another is canceled; a Completed one refuses changes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_held_cart_is_repriced_completed_and_another_canceled_through_the_operator_routes() {
    use http::Method;
    let data = tempfile::tempdir().unwrap();
    let (_server, base) = serve_with(data.path(), &["--price-book-cache-seconds", "0"], &[]);
    let endpoint = PurchasesEndpoint::new(&base, None).unwrap();
    wait_until_healthy(&endpoint).await;
    let call = |method: Method, path: String, body: Value| {
        let endpoint = &endpoint;
        async move {
            let body = if body.is_null() {
                Vec::new()
            } else {
                body.to_string().into_bytes()
            };
            let (status, answer) = endpoint.call(method, &path, &body).await.unwrap();
            (status, serde_json::from_slice::<Value>(&answer).unwrap())
        }
    };
    let mut body: Value = serde_json::from_slice(&cart("operator-1")).unwrap();
    body["cartItems"][0]["id"] = json!("SKU-NEW-1");
    let (status, answer) = endpoint.post(body.to_string().as_bytes()).await.unwrap();
    assert_eq!(status, 201);
    let id = serde_json::from_slice::<Value>(&answer).unwrap()["purchaseId"]
        .as_str()
        .unwrap()
        .to_owned();

    // What needs a person: listed, with why.
    let (status, held) = call(
        Method::GET,
        "/v1/purchases?state=Open&constraintId=UnknownSku".into(),
        Value::Null,
    )
    .await;
    assert_eq!(status, 200, "{held}");
    assert_eq!(held["purchases"][0]["purchaseId"], json!(id));
    assert_eq!(
        held["purchases"][0]["constraints"][0]["field"],
        "cartItems[0].id"
    );

    // The SKU is imported, then the purchase priced again and completed.
    let mut book: Value =
        serde_json::from_slice(&std::fs::read(jwo_test_support::sample_price_book()).unwrap())
            .unwrap();
    let mut item = book["items"][0].clone();
    item["sku"] = json!("SKU-NEW-1");
    item["barcodes"] = json!([]);
    book["items"].as_array_mut().unwrap().push(item);
    let file = data.path().join("with-new-sku.json");
    std::fs::write(&file, book.to_string()).unwrap();
    let import = Command::new(env!("CARGO_BIN_EXE_jwo"))
        .args(["catalog", "import"])
        .arg(&file)
        .arg("--data-dir")
        .arg(data.path())
        .output()
        .unwrap();
    assert!(
        import.status.success(),
        "{}",
        String::from_utf8_lossy(&import.stderr)
    );
    let (status, repriced) = call(
        Method::PATCH,
        format!("/v1/purchases/{id}"),
        json!({ "reprice": true }),
    )
    .await;
    assert_eq!(status, 200, "{repriced}");
    assert_eq!(repriced["constraints"], json!([]));
    assert_eq!(repriced["priceBookVersion"], "v2");
    assert!(
        repriced["history"][0]["actor"]
            .as_str()
            .unwrap()
            .starts_with("local:")
    );
    let (status, completed) = call(
        Method::POST,
        format!("/v1/purchases/{id}/complete"),
        json!({}),
    )
    .await;
    // The worker's sweep may have checked it out first: then it is already Completed (409).
    let order_id = if status == 200 {
        assert_eq!(completed["outcome"], "Completed", "{completed}");
        completed["purchase"]["orderId"]
            .as_str()
            .unwrap()
            .to_owned()
    } else {
        assert_eq!(
            (status, &completed["state"]),
            (409, &json!("Completed")),
            "{completed}"
        );
        let (_, got) = call(Method::GET, format!("/v1/purchases/{id}"), Value::Null).await;
        got["orderId"].as_str().unwrap().to_owned()
    };
    let ledger = std::fs::read_to_string(data.path().join("checkout-simulator.jsonl")).unwrap();
    let charges: Vec<Value> = ledger
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .filter(|charge: &Value| charge["tripId"] == "operator-1")
        .collect();
    assert_eq!(charges.len(), 1, "{ledger}");
    assert_eq!(charges[0]["orderId"], json!(order_id));
    let (status, refused) = call(
        Method::POST,
        format!("/v1/purchases/{id}/cancel"),
        json!({ "reason": "too late" }),
    )
    .await;
    assert_eq!((status, &refused["state"]), (409, &json!("Completed")));

    // Another held cart, canceled by a person.
    let mut body: Value = serde_json::from_slice(&cart("operator-2")).unwrap();
    body["cartItems"][0]["id"] = json!("SKU-NEVER");
    let (_, answer) = endpoint.post(body.to_string().as_bytes()).await.unwrap();
    let other = serde_json::from_slice::<Value>(&answer).unwrap()["purchaseId"]
        .as_str()
        .unwrap()
        .to_owned();
    let (status, canceled) = call(
        Method::POST,
        format!("/v1/purchases/{other}/cancel"),
        json!({ "reason": "test cart" }),
    )
    .await;
    assert_eq!(status, 200, "{canceled}");
    assert_eq!(canceled["statusDetail"]["reasonCode"], "OperatorCanceled");
    let (status, by_trip) = call(
        Method::GET,
        "/v1/purchases?storeId=STORE-001&idempotentShoppingTripId=operator-2".into(),
        Value::Null,
    )
    .await;
    assert_eq!((status, &by_trip["purchaseId"]), (200, &json!(other)));
}

/// `jwo purchases` against `jwo serve`: list what is held, get one as JSON, cancel it, and a
/// second cancel refused with the reason.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_purchases_command_lists_gets_and_cancels() {
    let data = tempfile::tempdir().unwrap();
    let (_server, base) = serve(data.path());
    let endpoint = PurchasesEndpoint::new(&base, None).unwrap();
    wait_until_healthy(&endpoint).await;
    let mut body: Value = serde_json::from_slice(&cart("command-1")).unwrap();
    body["cartItems"][1]["id"] = json!("SKU-NOT-IN-BOOK");
    let (_, answer) = endpoint.post(body.to_string().as_bytes()).await.unwrap();
    let id = serde_json::from_slice::<Value>(&answer).unwrap()["purchaseId"]
        .as_str()
        .unwrap()
        .to_owned();

    let (ok, table) = jwo(
        &[
            "purchases",
            "list",
            "--constraint",
            "UnknownSku",
            "--endpoint",
            &base,
        ],
        &[],
    );
    assert!(ok, "{table}");
    assert!(
        table.contains(&id) && table.contains("UnknownSku"),
        "{table}"
    );
    assert!(table.contains("1 purchase(s)"), "{table}");
    let (ok, got) = jwo(
        &["purchases", "get", &id, "--json", "--endpoint", &base],
        &[],
    );
    assert!(ok, "{got}");
    let got: Value = serde_json::from_str(&got).unwrap();
    assert_eq!(got["constraints"][0]["field"], "cartItems[1].id");
    let (ok, by_trip) = jwo(
        &[
            "purchases",
            "get",
            "--store",
            "STORE-001",
            "--trip",
            "command-1",
            "--endpoint",
            &base,
        ],
        &[],
    );
    assert!(ok && by_trip.contains(&id), "{by_trip}");
    let (ok, canceled) = jwo(
        &[
            "purchases",
            "cancel",
            &id,
            "--reason",
            "a test cart",
            "--endpoint",
            &base,
        ],
        &[],
    );
    assert!(ok, "{canceled}");
    assert!(
        canceled.contains("state Canceled (OperatorCanceled)"),
        "{canceled}"
    );
    assert!(canceled.contains("cancel by local:"), "{canceled}");
    let again = Command::new(env!("CARGO_BIN_EXE_jwo"))
        .args([
            "purchases",
            "cancel",
            &id,
            "--reason",
            "again",
            "--endpoint",
            &base,
        ])
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(1));
    let said = String::from_utf8_lossy(&again.stderr);
    assert!(said.contains("409") && said.contains("Canceled"), "{said}");
}

/// Runs `jwo` with `stdin`; (success, stdout, stderr).
fn jwo_with_input(args: &[&str], stdin: &[u8]) -> (bool, String, String) {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_jwo"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    let output = child.wait_with_output().unwrap();
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// The priceTotal `jwo price` gives `cart` with the book at `book`.
fn price_total(book: &Path, cart: &[u8]) -> String {
    let (ok, body, said) = jwo_with_input(&["price", "--pricebook", book.to_str().unwrap()], cart);
    assert!(ok, "{said}");
    let body: Value = serde_json::from_str(&body).unwrap();
    body["orderTotals"]["priceTotal"]["amount"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn cents(amount: &str) -> i64 {
    let (whole, fraction) = amount.split_once('.').unwrap();
    let sign = if whole.starts_with('-') { -1 } else { 1 };
    sign * (whole.trim_start_matches('-').parse::<i64>().unwrap() * 100
        + fraction.parse::<i64>().unwrap())
}

/// `jwo purchases` prices a line a book cannot, completes only at the total the person saw,
/// and lists a store's history; `jwo reprice` then says what a candidate book would have
/// charged for those purchases, and changes nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_person_prices_completes_and_lists_from_the_command_line_and_reprice_compares_a_book() {
    let data = tempfile::tempdir().unwrap();
    let (_server, base) = serve(data.path());
    let endpoint = PurchasesEndpoint::new(&base, None).unwrap();
    wait_until_healthy(&endpoint).await;
    let since = (chrono::Utc::now() - chrono::Duration::minutes(1)).to_rfc3339();
    let post = |body: Vec<u8>| {
        let endpoint = &endpoint;
        async move {
            let (status, answer) = endpoint.post(&body).await.unwrap();
            assert_eq!(status, 201, "{}", String::from_utf8_lossy(&answer));
            serde_json::from_slice::<Value>(&answer).unwrap()["purchaseId"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    let with_sku = |trip: &str, sku: &str| {
        let mut body: Value = serde_json::from_slice(&cart(trip)).unwrap();
        body["cartItems"][1]["id"] = json!(sku);
        body.to_string().into_bytes()
    };
    let overridden = post(with_sku("command-2", "SKU-UNLISTED")).await;
    let priced = post(cart("command-3")).await;
    let never = post(with_sku("command-4", "SKU-NEVER")).await;

    // The unlisted item priced by a person as the book prices SKU-002 after its promotion:
    // the same total as the cart the book priced.
    let (ok, updated) = jwo(
        &[
            "purchases",
            "update",
            &overridden,
            "--line-price",
            "1:2.99:STD",
            "--reason",
            "shelf label",
            "--json",
            "--endpoint",
            &base,
        ],
        &[],
    );
    assert!(ok, "{updated}");
    let updated: Value = serde_json::from_str(&updated).unwrap();
    assert_eq!(updated["constraints"], json!([]), "{updated}");
    assert_eq!(
        updated["lineItems"][1]["explanation"]["pricedBy"]["reason"],
        "shelf label"
    );
    let total = updated["orderTotals"]["priceTotal"]["amount"]
        .as_str()
        .unwrap()
        .to_owned();
    let (_, got) = jwo(
        &["purchases", "get", &priced, "--json", "--endpoint", &base],
        &[],
    );
    let got: Value = serde_json::from_str(&got).unwrap();
    assert_eq!(got["orderTotals"]["priceTotal"]["amount"], json!(total));

    // Not at a total the person did not see: refused, nothing submitted.
    let refused = Command::new(env!("CARGO_BIN_EXE_jwo"))
        .args([
            "purchases",
            "complete",
            &overridden,
            "--total",
            "0.01",
            "--json",
            "--endpoint",
            &base,
        ])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(1));
    let answer: Value = serde_json::from_slice(&refused.stdout).unwrap();
    assert_eq!(answer["code"], "AmountMismatch", "{answer}");
    let ledger = || {
        std::fs::read_to_string(data.path().join("checkout-simulator.jsonl")).unwrap_or_default()
    };
    assert!(!ledger().contains("command-2"), "{}", ledger());
    let (ok, completed) = jwo(
        &[
            "purchases",
            "complete",
            &overridden,
            "--total",
            &format!("{total} USD"),
            "--json",
            "--endpoint",
            &base,
        ],
        &[],
    );
    assert!(ok, "{completed}");
    let completed: Value = serde_json::from_str(&completed).unwrap();
    assert_eq!(completed["outcome"], "Completed", "{completed}");
    let charges: Vec<Value> = ledger()
        .lines()
        .map(|line| serde_json::from_str::<Value>(line).unwrap())
        .filter(|charge| charge["tripId"] == "command-2")
        .collect();
    assert_eq!(charges.len(), 1);
    assert_eq!(charges[0]["orderId"], completed["purchase"]["orderId"]);

    // The store's history: all three, oldest first; and the Completed one by state.
    let (ok, history) = jwo(
        &[
            "purchases",
            "list",
            "--store",
            "STORE-001",
            "--since",
            &since,
            "--all",
            "--json",
            "--endpoint",
            &base,
        ],
        &[],
    );
    assert!(ok, "{history}");
    let history: Value = serde_json::from_str(&history).unwrap();
    let ids: Vec<&str> = history["purchases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["purchaseId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [overridden.as_str(), priced.as_str(), never.as_str()]);
    let (ok, completed_only) = jwo(
        &[
            "purchases",
            "list",
            "--store",
            "STORE-001",
            "--since",
            &since,
            "--state",
            "Completed",
            "--endpoint",
            &base,
        ],
        &[],
    );
    assert!(
        ok && completed_only.contains(&overridden),
        "{completed_only}"
    );
    assert!(!completed_only.contains(&never), "{completed_only}");

    // A candidate book: SKU-002 dearer, SKU-NEVER listed.
    let mut book: Value =
        serde_json::from_slice(&std::fs::read(jwo_test_support::sample_price_book()).unwrap())
            .unwrap();
    let items = book["items"].as_array_mut().unwrap();
    for item in items.iter_mut() {
        if item["sku"] == "SKU-002" {
            item["price"] = json!("3.99");
        }
    }
    items.push(json!({ "sku": "SKU-NEVER", "name": "Gift card sleeve", "price": "1.00", "taxCode": "STD" }));
    let candidate = data.path().join("candidate.json");
    std::fs::write(&candidate, book.to_string()).unwrap();
    let (ok, compared) = jwo(
        &[
            "reprice",
            "--pricebook",
            candidate.to_str().unwrap(),
            "--since",
            &since,
            "--json",
            "--endpoint",
            &base,
        ],
        &[],
    );
    assert!(ok, "{compared}");
    let compared: Value = serde_json::from_str(&compared).unwrap();
    let changed = compared["changed"].as_array().unwrap();
    let find = |id: &str| {
        changed
            .iter()
            .find(|c| c["purchaseId"] == id)
            .unwrap_or_else(|| panic!("{id} not in {compared:#}"))
    };
    // The priced cart: what `jwo price` gives the stored cart with each book, line 1 the why.
    let sample = jwo_test_support::sample_price_book();
    let (stored, repriced) = (
        price_total(&sample, &cart("command-3")),
        price_total(&candidate, &cart("command-3")),
    );
    let dearer = find(&priced);
    assert_eq!(
        (&dearer["stored"], &dearer["candidate"]),
        (&json!(stored), &json!(repriced))
    );
    assert_eq!(
        cents(dearer["difference"].as_str().unwrap()),
        cents(&repriced) - cents(&stored)
    );
    assert_eq!(dearer["lines"].as_array().unwrap().len(), 1, "{dearer}");
    assert_eq!(dearer["lines"][0]["line"], 1);
    assert!(
        dearer["lines"][0]["why"]
            .as_array()
            .unwrap()
            .contains(&json!("unit price 3.49 → 3.99")),
        "{dearer}"
    );
    // The line a person priced: the candidate cannot price it; the held cart it can.
    assert!(
        !find(&overridden)["candidateConstraints"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_eq!(find(&never)["stored"], Value::Null);
    assert_eq!(
        find(&never)["candidate"],
        json!(price_total(&candidate, &with_sku("command-4", "SKU-NEVER")))
    );
    let summary = &compared["summary"];
    assert_eq!(
        (
            &summary["compared"],
            &summary["changed"],
            &summary["wouldBeHeld"],
            &summary["wouldBePriced"]
        ),
        (&json!(3), &json!(3), &json!(1), &json!(1)),
        "{summary}"
    );
    assert_eq!(
        cents(summary["difference"].as_str().unwrap()),
        cents(&repriced) - cents(&stored)
    );
    // Nothing changed: the purchases are as they were.
    let (_, after) = jwo(
        &["purchases", "get", &priced, "--json", "--endpoint", &base],
        &[],
    );
    let after: Value = serde_json::from_str(&after).unwrap();
    assert_eq!(after["priceBookVersion"], got["priceBookVersion"]);
    assert_eq!(after["orderTotals"], got["orderTotals"]);
}

/// A non-loopback address without a signature requirement is refused, naming both ways out.
#[test]
fn an_unsigned_server_on_a_network_address_is_refused_unless_asked_for() {
    let data = tempfile::tempdir().unwrap();
    let refused = Command::new(env!("CARGO_BIN_EXE_jwo"))
        .args(["serve", "--listen", "0.0.0.0:0", "--data-dir"])
        .arg(data.path())
        .output()
        .unwrap();
    assert!(!refused.status.success());
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(
        said.contains("--require-sigv4") && said.contains("--allow-unsigned-network"),
        "{said}"
    );
}

/// `GET path` on a raw connection, asking the server to close it after the answer.
fn raw_get(stream: &mut std::net::TcpStream, path: &str) {
    use std::io::Write;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
}

/// Reads until the server closes the connection; None if it is still open after `patience`.
fn read_to_close(stream: &mut std::net::TcpStream, patience: Duration) -> Option<String> {
    use std::io::Read;
    stream.set_read_timeout(Some(patience)).unwrap();
    let mut answer = Vec::new();
    match stream.read_to_end(&mut answer) {
        Ok(_) => Some(String::from_utf8_lossy(&answer).into_owned()),
        Err(error)
            if matches!(
                error.kind(),
                std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
            ) =>
        {
            None
        }
        // A reset is a close too.
        Err(_) => Some(String::from_utf8_lossy(&answer).into_owned()),
    }
}

#[test]
fn a_slow_client_is_cut_off_and_connections_beyond_the_limit_wait() {
    let data = tempfile::tempdir().unwrap();
    let (_server, base) = serve_with(
        data.path(),
        &[
            "--header-read-timeout-seconds",
            "3",
            "--max-connections",
            "2",
        ],
        &[],
    );
    let address = base.trim_start_matches("http://").to_owned();
    let connect = || std::net::TcpStream::connect(&address).unwrap();
    let mut first = connect();
    raw_get(&mut first, "/healthz");
    assert!(
        read_to_close(&mut first, Duration::from_secs(30))
            .unwrap()
            .starts_with("HTTP/1.1 200")
    );

    // A client that sends half its headers, then nothing, is closed after the timeout.
    let mut slow = connect();
    std::io::Write::write_all(
        &mut slow,
        b"POST /v1/order/purchases HTTP/1.1\r\nHost: 127.0.0.1\r\n",
    )
    .unwrap();
    let cut = read_to_close(&mut slow, Duration::from_secs(30));
    assert!(
        cut.is_some(),
        "a slow client still holds its connection after 30 s"
    );
    assert!(!cut.unwrap().contains(" 201 "), "nothing was created");

    // Two connections held open, with nothing sent: a third waits, unanswered,
    let held = connect();
    let _also_held = connect();
    std::thread::sleep(Duration::from_millis(200));
    let mut third = connect();
    raw_get(&mut third, "/healthz");
    assert_eq!(
        read_to_close(&mut third, Duration::from_millis(1_000)),
        None,
        "answered beyond --max-connections 2"
    );
    // until one of them closes.
    drop(held);
    let answer = read_to_close(&mut third, Duration::from_secs(30))
        .expect("answered once a connection closed");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}
