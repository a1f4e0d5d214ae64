//! `jwo`: the ordering connector's command line.

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    jwo::cli::Cli::parse().run()
}
