//! Command-line surface of `jwo`: one subcommand per task, each in `commands/`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use jwo_domain::contract::checkout::AmountBasis;

use crate::commands;

#[derive(Debug, Parser)]
#[command(
    name = "jwo",
    version,
    about = "Just Walk Out ordering connector: local connector, price checks and test tools"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the ordering connector locally: Create Purchases on POST /v1/order/purchases, the
    /// purchases in an embedded store under --data-dir, and checkout through an in-process
    /// worker to the built-in Checkout Service simulator (or --checkout-url).
    Serve(commands::serve::Serve),
    /// Play Amazon's side against an ordering connector: run Amazon's published Create
    /// Purchases cases (success, empty cart, idempotent replay, every validation case) and
    /// print case, expected, got, pass/fail. Exit code 0 when all pass, 1 otherwise, 2 when
    /// the test cannot run.
    ConnectivityTest(commands::connectivity::ConnectivityTest),
    /// Send carts at a fixed rate (Amazon's side), then print latency percentiles, throughput
    /// and errors; against `jwo serve`'s built-in simulator, prove every acknowledged cart was
    /// charged exactly once. Exit code 0 when all is well, 1 on errors, 2 when it cannot run.
    Load(commands::load::Load),
    /// Price a Create Purchases body (stdin) and print the Checkout Service body (stdout).
    ///
    /// An empty cart prints nothing. Exit codes: 0 priced (or empty cart), 1 the price book
    /// cannot be used, 2 bad command line, 3 the request is invalid (what Amazon would get a 400
    /// for), 4 the cart cannot be priced with this price book (unknown SKU, missing tax rate).
    Price {
        /// The price book (JSON).
        #[arg(long, value_name = "FILE")]
        pricebook: PathBuf,
        /// Amount basis of the output; defaults to the price book's `amountBasis` (line).
        #[arg(long, value_name = "line|unit")]
        basis: Option<AmountBasis>,
        /// Print `{"checkout": body, "explanation": …}`: per line, how the item was found,
        /// each promotion, the tax and the fees with their roundings, then the threshold and
        /// the totals the lines add up to.
        #[arg(long)]
        explain: bool,
        /// Many carts: one Create Purchases body per line of stdin, one line out for each (the
        /// compact body, or `{"line", "emptyCart"}`, or `{"line", "error", "errors"}`), the
        /// counts and carts/s on stderr. Exit code 0 when every cart priced, 5 otherwise.
        #[arg(long)]
        jsonl: bool,
    },
    /// Look at purchases and resolve what is held back (the operator routes): list, get,
    /// update, complete, cancel. Exit code 0 done, 1 refused (the reason printed), 2 cannot run.
    Purchases(commands::purchases::Purchases),
    /// What a candidate price book would have charged for the purchases stored (each store's
    /// history through the operator routes), per purchase and line, and in total, with why.
    /// Changes nothing. Exit code 0 compared, 1 refused by the connector, 2 cannot run.
    Reprice(commands::reprice::Reprice),
    /// The operator routes of a connector as MCP tools over stdio (get_purchase,
    /// list_purchases, update_purchase, complete_purchase, cancel_purchase, price_cart), for an
    /// assistant's MCP client to start; --sign for a deployed stack.
    Mcp(commands::mcp::Mcp),
    /// The price book in the catalog store, and the Catalog API upload.
    Catalog {
        #[command(subcommand)]
        command: commands::catalog::CatalogCommand,
    },
    /// Run a stand-in for one of Amazon's services.
    Simulate {
        #[command(subcommand)]
        service: Simulated,
    },
}

#[derive(Debug, Subcommand)]
pub enum Simulated {
    /// The Checkout Service (POST /v1/checkout/carts): verifies SigV4, applies Amazon's six
    /// rules to the carts sent to Create Purchases, charges each trip once, injects faults on
    /// request, and counts everything (GET /_simulator/stats).
    Checkout(commands::simulate::SimulateCheckout),
    /// The Catalog API (upload, getCatalogUploadStatus): verifies SigV4, refuses calls over
    /// 10,000 items or 10 a second with Amazon's errorMsg, injects faults on request, and
    /// counts everything (GET /_catalog/stats).
    Catalog(commands::simulate::SimulateCatalog),
}

impl Cli {
    pub fn run(self) -> ExitCode {
        match self.command {
            Command::Serve(args) => commands::serve::run(args),
            Command::ConnectivityTest(args) => commands::connectivity::run(args),
            Command::Load(args) => commands::load::run(args),
            Command::Purchases(args) => commands::purchases::run(args),
            Command::Reprice(args) => commands::reprice::run(args),
            Command::Mcp(args) => commands::mcp::run(args),
            Command::Price {
                pricebook,
                basis,
                explain,
                jsonl,
            } => commands::price::run(&pricebook, basis, explain, jsonl),
            Command::Catalog { command } => commands::catalog::run(command),
            Command::Simulate {
                service: Simulated::Checkout(args),
            } => commands::simulate::run(args),
            Command::Simulate {
                service: Simulated::Catalog(args),
            } => commands::simulate::run_catalog(args),
        }
    }
}
