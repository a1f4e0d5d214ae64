//! A function's own binary run as Lambda runs it: `cargo lambda watch --only-lambda-apis`
//! emulates the Lambda runtime API, the binary (as `cargo test` built it) polls it with the
//! settings the stack gives it, and `cargo lambda invoke --data-file` sends an event.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::{moto_endpoint, repo_root, wait_for_port};

/// Kills a process when the test ends, however it ends.
pub struct Killed(pub Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// `PATH` with the project's `.venv/bin` (where cargo-lambda is installed) in front.
pub fn path_with_venv() -> String {
    let venv: PathBuf = repo_root().join(".venv/bin");
    format!(
        "{}:{}",
        venv.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

/// The runtime API emulator and one function polling it.
pub struct LambdaUnderTest {
    port: u16,
    _function: Killed,
    _emulator: Killed,
}

impl LambdaUnderTest {
    /// Starts the emulator and `binary` with `settings` (plus the AWS emulator's endpoint and
    /// test credentials, as the function's role would provide).
    pub fn start(binary: &Path, settings: &[(&str, &str)]) -> LambdaUnderTest {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let emulator = Command::new("cargo")
            .args(["lambda", "watch", "--only-lambda-apis", "--invoke-address", "127.0.0.1", "--invoke-port", &port.to_string()])
            .current_dir(repo_root())
            .env("PATH", path_with_venv())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("cargo lambda watch starts (cargo-lambda is installed into .venv by infra/scripts/test)");
        let emulator = Killed(emulator);
        wait_for_port(port, Duration::from_secs(60));
        let function = Command::new(binary)
            // What the runtime API emulator asks of a function it does not start itself.
            .env(
                "AWS_LAMBDA_RUNTIME_API",
                format!("http://127.0.0.1:{port}/.rt"),
            )
            .env("AWS_LAMBDA_FUNCTION_NAME", "_")
            .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env("AWS_ENDPOINT_URL", moto_endpoint())
            .env("AWS_REGION", "us-east-1")
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .envs(settings.iter().copied())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("the function's binary starts");
        LambdaUnderTest {
            port,
            _function: Killed(function),
            _emulator: emulator,
        }
    }

    /// `cargo lambda invoke --data-file EVENT`: the function's answer. A function that cannot
    /// start leaves the invocation waiting: after two minutes it fails (coreutils `timeout`).
    pub fn invoke(&self, event: &Path) -> serde_json::Value {
        let output = Command::new("timeout")
            .args([
                "120",
                "cargo",
                "lambda",
                "invoke",
                "_",
                "--invoke-address",
                "127.0.0.1",
                "--invoke-port",
                &self.port.to_string(),
                "--data-file",
            ])
            .arg(event)
            .current_dir(repo_root())
            .env("PATH", path_with_venv())
            .output()
            .expect("cargo lambda invoke runs");
        assert!(
            output.status.success(),
            "cargo lambda invoke failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_slice(&output.stdout).expect("the function answers JSON")
    }
}
