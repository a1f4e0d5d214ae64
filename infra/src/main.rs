//! `jwo`: the ordering connector's command line.

use std::process::ExitCode;

use clap::Parser;

// mimalloc: a cart is many small allocations (its strings, lines and amounts), and glibc's
// malloc took about a sixth of the pricing path (BENCHMARKS.md, the pricing path
// against issue 18's goals).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    jwo::cli::Cli::parse().run()
}
