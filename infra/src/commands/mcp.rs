//! `jwo mcp`: the operator routes of a connector (`jwo serve`'s, or a deployed stack's with
//! `--sign`) as MCP tools over stdio, for an assistant's MCP client to start.

use std::process::ExitCode;
use std::sync::Arc;

use clap::Args;
use rmcp::ServiceExt;

use crate::mcp::{OperatorTools, RemoteRoutes};
use crate::purchases_endpoint::OperatorEndpointArgs;

#[derive(Debug, Args)]
pub struct Mcp {
    #[command(flatten)]
    pub connector: OperatorEndpointArgs,
}

pub fn run(args: Mcp) -> ExitCode {
    // stdout is the protocol's: logs go to stderr.
    crate::init_tracing();
    super::run_to_exit(async move {
        let endpoint = args.connector.connect().await?;
        // The connector records its own caller (the signing role, or its local user).
        let tools = OperatorTools::new(Arc::new(RemoteRoutes(endpoint)), "mcp");
        let running = tools
            .serve(rmcp::transport::stdio())
            .await
            .map_err(|error| format!("MCP over stdio: {error}"))?;
        running
            .waiting()
            .await
            .map_err(|error| format!("MCP over stdio: {error}"))?;
        Ok(())
    })
}
