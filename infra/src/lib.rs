//! The `jwo` command and the local stand-ins for Amazon's side.

pub mod cli;
pub mod commands;
pub mod simulator;
