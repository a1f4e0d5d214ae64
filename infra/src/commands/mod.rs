//! One module per `jwo` subcommand.

pub mod catalog;
pub mod connectivity;
pub mod load;
pub mod mcp;
pub mod price;
pub mod purchases;
pub mod reprice;
pub mod serve;
pub mod simulate;

/// Runs the work of a command that calls a service: exit code 0 done, 1 the service refused
/// (its reason printed by the work), 2 the command cannot run (`error: …`).
pub fn run_refusable(
    work: impl std::future::Future<Output = Result<bool, String>>,
) -> std::process::ExitCode {
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime starts");
    match runtime.block_on(work) {
        Ok(true) => std::process::ExitCode::SUCCESS,
        Ok(false) => std::process::ExitCode::FAILURE,
        Err(message) => {
            eprintln!("error: {message}");
            std::process::ExitCode::from(2)
        }
    }
}

/// Runs a command's work on a tokio runtime; an error is printed as `error: …` and exits 1.
pub fn run_to_exit(
    work: impl std::future::Future<Output = Result<(), String>>,
) -> std::process::ExitCode {
    let runtime = tokio::runtime::Runtime::new().expect("a tokio runtime starts");
    match runtime.block_on(work) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            std::process::ExitCode::FAILURE
        }
    }
}
