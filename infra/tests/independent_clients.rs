//! The operator's MCP tools and GraphQL through clients nobody here wrote: the official Python
//! MCP SDK (over stdio via `jwo mcp`, and over streamable HTTP at `/mcp`) and graphql-core
//! (queries validated against the committed SDL, sent to `/graphql`), both against a real
//! `jwo serve`. The scripts are in `infra/tests/clients/`; their packages are in `.venv`
//! (infra/scripts/requirements-test.txt).

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use jwo_test_support::{Killed, repo_root, sample_price_book};

/// A `jwo serve` on a free port that reads a new price book at once; its base URL.
fn serve(data_dir: &std::path::Path) -> (Killed, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_jwo"))
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--price-book-cache-seconds",
            "0",
            "--data-dir",
        ])
        .arg(data_dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("jwo serve starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().expect("a banner").unwrap();
    let base = first.rsplit(' ').next().unwrap().to_owned();
    std::thread::spawn(move || lines.for_each(drop));
    (Killed(child), base)
}

fn run_client(script: &str) {
    let data = tempfile::tempdir().unwrap();
    let (_server, base) = serve(data.path());
    let python = repo_root().join(".venv/bin/python");
    let output = Command::new(&python)
        .arg(repo_root().join("infra/tests/clients").join(script))
        .arg(env!("CARGO_BIN_EXE_jwo"))
        .arg(&base)
        .arg(data.path())
        .arg(sample_price_book())
        .current_dir(repo_root())
        .output()
        .unwrap_or_else(|error| {
            panic!(
                "{} (run infra/scripts/test once): {error}",
                python.display()
            )
        });
    assert!(
        output.status.success(),
        "{script} failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn the_python_mcp_sdk_runs_the_operator_scenario_over_stdio_and_streamable_http() {
    run_client("mcp_scenario.py");
}

#[test]
fn graphql_core_validates_every_query_against_the_committed_sdl_and_runs_the_scenario() {
    run_client("graphql_scenario.py");
}

/// A raw `POST /mcp` initialize with `host` as the Host header; the status line.
fn mcp_status(address: &str, host: &str) -> String {
    let body = r#"{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"raw","version":"1"}}}"#;
    post_status(
        address,
        "/mcp",
        &format!("Host: {host}\r\nContent-Type: application/json"),
        body,
    )
}

/// A raw `POST path` with `headers`; the status line.
fn post_status(address: &str, path: &str, headers: &str, body: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(address).unwrap();
    write!(
        stream,
        "POST {path} HTTP/1.1\r\n{headers}\r\nAccept: application/json, text/event-stream\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer.lines().next().unwrap_or_default().to_owned()
}

/// `/mcp` answers the Host names it was told of, and refuses any other (DNS rebinding).
#[test]
fn mcp_over_http_refuses_a_host_it_was_not_told_of() {
    let data = tempfile::tempdir().unwrap();
    let (_server, base) = serve(data.path());
    let address = base.trim_start_matches("http://");
    assert!(
        mcp_status(address, address).contains(" 200"),
        "{}",
        mcp_status(address, address)
    );
    let port = address.rsplit(':').next().unwrap();
    let refused = mcp_status(address, &format!("attacker.example:{port}"));
    assert!(refused.contains(" 403"), "{refused}");
}

/// Every route is guarded alike: GraphQL and the operator routes refuse a foreign Host or
/// browser Origin, and a change not sent as JSON (a form's plain-text POST needs no preflight).
#[test]
fn graphql_and_the_operator_routes_refuse_what_a_web_page_could_send() {
    let data = tempfile::tempdir().unwrap();
    let (_server, base) = serve(data.path());
    let address = base.trim_start_matches("http://");
    let query = r#"{"query":"{ purchases { nodes { purchaseId } } }"}"#;
    let json = "Content-Type: application/json";
    let ok = post_status(
        address,
        "/graphql",
        &format!("Host: {address}\r\n{json}"),
        query,
    );
    assert!(ok.contains(" 200"), "{ok}");
    for (path, headers, status) in [
        (
            "/graphql",
            format!("Host: rebound.example\r\n{json}"),
            " 403",
        ),
        (
            "/graphql",
            format!("Host: {address}\r\nOrigin: http://attacker.example\r\n{json}"),
            " 403",
        ),
        (
            "/graphql",
            format!("Host: {address}\r\nContent-Type: text/plain"),
            " 415",
        ),
        (
            "/v1/purchases/x/cancel",
            format!("Host: rebound.example\r\n{json}"),
            " 403",
        ),
        (
            "/v1/purchases/x/cancel",
            format!("Host: {address}\r\nContent-Type: text/plain"),
            " 415",
        ),
    ] {
        let got = post_status(address, path, &headers, query);
        assert!(got.contains(status), "{path} {headers:?}: {got}");
    }
}
