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

pub fn run(price_book_path: &Path, basis: Option<AmountBasis>, explain: bool) -> ExitCode {
    let book = match load_price_book(price_book_path) {
        Ok(book) => book,
        Err(message) => return fail(EXIT_PRICE_BOOK, &message),
    };
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
