//! `jwo price`: a retailer's check of what the connector will charge, before going live.

use std::io::{Read, Write};
use std::path::Path;
use std::process::ExitCode;

use jwo_domain::contract::checkout::AmountBasis;
use jwo_domain::pricing::{PriceBook, Unpriced, explain_cart};
use jwo_domain::validation::validate_create_purchases;

/// Exit codes, documented in `jwo price --help`.
pub const EXIT_PRICE_BOOK: u8 = 1;
pub const EXIT_INVALID_REQUEST: u8 = 3;
pub const EXIT_UNPRICEABLE: u8 = 4;
/// `--jsonl`: some carts were not priced (their lines say why).
pub const EXIT_SOME_NOT_PRICED: u8 = 5;

pub fn run(
    price_book_path: &Path,
    basis: Option<AmountBasis>,
    explain: bool,
    jsonl: bool,
) -> ExitCode {
    let book = match load_price_book(price_book_path) {
        Ok(book) => book,
        Err(message) => return fail(EXIT_PRICE_BOOK, &message),
    };
    if jsonl {
        let stdin = std::io::stdin().lock();
        let stdout = std::io::stdout().lock();
        return match price_lines(&book, basis, explain, stdin, stdout) {
            Ok(tally) => {
                eprintln!("{tally}");
                if tally.priced + tally.empty == tally.carts {
                    ExitCode::SUCCESS
                } else {
                    ExitCode::from(EXIT_SOME_NOT_PRICED)
                }
            }
            Err(error) => fail(
                1,
                &format!("cannot read the carts or write the results: {error}"),
            ),
        };
    }
    let mut body = Vec::new();
    if let Err(error) = std::io::stdin().read_to_end(&mut body) {
        return fail(
            EXIT_INVALID_REQUEST,
            &format!("cannot read the request from stdin: {error}"),
        );
    }
    let request = match validate_create_purchases(&body) {
        Ok(request) => request,
        Err(invalid) => {
            let mut message = String::from("the request is invalid (Amazon would get a 400):");
            for error in &invalid.errors {
                message.push_str(&format!("\n  {}: {}", error.field, error.reason));
            }
            return fail(EXIT_INVALID_REQUEST, &message);
        }
    };
    let basis = basis.unwrap_or(book.amount_basis);
    let priced = match explain_cart(&book, &request, basis, &[]) {
        Ok((checkout, explanation)) if explain => serde_json::to_vec_pretty(
            &serde_json::json!({ "checkout": checkout, "explanation": explanation }),
        ),
        Ok((checkout, _)) => serde_json::to_vec_pretty(&checkout),
        Err(outcome) => return unpriced(outcome),
    };
    // One write: the body is built in memory, not flushed line by line.
    let written = priced.map_err(std::io::Error::from).and_then(|mut text| {
        text.push(b'\n');
        std::io::stdout().lock().write_all(&text)
    });
    match written {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => fail(1, &format!("cannot write the result: {error}")),
    }
}

/// What `--jsonl` did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Tally {
    pub carts: u64,
    pub priced: u64,
    pub empty: u64,
    pub invalid: u64,
    pub unpriceable: u64,
    pub elapsed: std::time::Duration,
}

impl std::fmt::Display for Tally {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Whole numbers: the project's lints keep floats out.
        let micros = self.elapsed.as_micros().max(1);
        let rate = u128::from(self.carts) * 1_000_000 / micros;
        write!(
            f,
            "{} carts: {} priced, {} empty, {} invalid, {} unpriceable, in {} ms ({rate} carts/s)",
            self.carts,
            self.priced,
            self.empty,
            self.invalid,
            self.unpriceable,
            self.elapsed.as_millis()
        )
    }
}

/// Errors listed on one output line at most, so a broken cart cannot make a huge line.
const MAX_ERRORS_PER_LINE: usize = 20;

/// `--jsonl`: one Create Purchases body per input line, one line out for each, in order: the
/// Checkout Service body (compact JSON, or `{"checkout", "explanation"}` with `explain`), or
/// `{"line": N, "emptyCart": true}`, or `{"line": N, "error": "invalid" | "unpriceable",
/// "errors": [...]}` naming the fields. Blank lines are skipped (and not counted). Output goes
/// through one buffer, written in large pieces.
pub fn price_lines(
    book: &PriceBook,
    basis: Option<AmountBasis>,
    explain: bool,
    input: impl std::io::BufRead,
    output: impl Write,
) -> std::io::Result<Tally> {
    let started = std::time::Instant::now();
    let basis = basis.unwrap_or(book.amount_basis);
    let mut out = std::io::BufWriter::with_capacity(256 * 1024, output);
    let mut tally = Tally::default();
    for (index, line) in input.split(b'\n').enumerate() {
        let line = line?;
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        tally.carts += 1;
        let number = index + 1;
        let answer = match validate_create_purchases(&line) {
            Err(invalid) => {
                tally.invalid += 1;
                let errors: Vec<_> = invalid
                    .errors
                    .iter()
                    .take(MAX_ERRORS_PER_LINE)
                    .map(
                        |error| serde_json::json!({ "field": error.field, "reason": error.reason }),
                    )
                    .collect();
                serde_json::json!({ "line": number, "error": "invalid", "errors": errors })
            }
            Ok(request) => match explain_cart(book, &request, basis, &[]) {
                Ok((checkout, explanation)) => {
                    tally.priced += 1;
                    if explain {
                        serde_json::to_writer(
                            &mut out,
                            &serde_json::json!({ "checkout": checkout, "explanation": explanation }),
                        )?;
                    } else {
                        serde_json::to_writer(&mut out, &checkout)?;
                    }
                    out.write_all(b"\n")?;
                    continue;
                }
                Err(Unpriced::EmptyCart) => {
                    tally.empty += 1;
                    serde_json::json!({ "line": number, "emptyCart": true })
                }
                Err(Unpriced::Unpriceable(constraints)) => {
                    tally.unpriceable += 1;
                    let errors: Vec<_> = constraints
                        .iter()
                        .take(MAX_ERRORS_PER_LINE)
                        .map(|c| serde_json::json!({ "field": c.field, "kind": c.kind, "reason": c.detail }))
                        .collect();
                    serde_json::json!({ "line": number, "error": "unpriceable", "errors": errors })
                }
            },
        };
        serde_json::to_writer(&mut out, &answer)?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    tally.elapsed = started.elapsed();
    Ok(tally)
}

fn unpriced(outcome: Unpriced) -> ExitCode {
    match outcome {
        Unpriced::EmptyCart => ExitCode::SUCCESS,
        Unpriced::Unpriceable(constraints) => {
            let mut message = String::from("the cart cannot be priced with this price book:");
            for constraint in &constraints {
                message.push_str(&format!(
                    "\n  {} ({}): {}",
                    constraint.field, constraint.kind, constraint.detail
                ));
            }
            fail(EXIT_UNPRICEABLE, &message)
        }
    }
}

/// Reads and checks a price book file; the error names the file and every refused entry.
pub fn load_price_book(path: &Path) -> Result<PriceBook, String> {
    let bytes = std::fs::read(path)
        .map_err(|error| format!("cannot read price book {}: {error}", path.display()))?;
    PriceBook::from_json(&bytes).map_err(|error| format!("{}: {error}", path.display()))
}

fn fail(code: u8, message: &str) -> ExitCode {
    eprintln!("error: {message}");
    ExitCode::from(code)
}
