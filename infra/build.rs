//! Compiles Amazon's published Create Purchases cases (`tests/fixtures/create_purchases`) into
//! the `jwo` binary, for `jwo connectivity-test`: one list of cases, for the tests and the tool.

use std::fmt::Write;
use std::path::PathBuf;

fn main() {
    let dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").unwrap())
        .join("../tests/fixtures/create_purchases")
        .canonicalize()
        .expect("tests/fixtures/create_purchases exists");
    println!("cargo:rerun-if-changed={}", dir.display());
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.join("cases.json")).expect("cases.json"))
            .expect("cases.json is JSON");
    let mut code = String::from("pub const CASES: &[PublishedCase] = &[\n");
    for case in manifest["cases"].as_array().expect("a case list") {
        let file = case["file"].as_str().expect("file");
        let status = case["status"].as_u64().expect("status");
        let path = dir.join(file);
        println!("cargo:rerun-if-changed={}", path.display());
        writeln!(
            code,
            "    PublishedCase {{ file: {file:?}, status: {status}, body: include_bytes!({:?}) }},",
            path.display().to_string()
        )
        .unwrap();
    }
    code.push_str("];\n");
    let out = PathBuf::from(std::env::var("OUT_DIR").unwrap()).join("create_purchases_cases.rs");
    std::fs::write(out, code).expect("OUT_DIR is writable");
}
