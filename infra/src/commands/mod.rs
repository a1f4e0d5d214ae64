//! One module per `jwo` subcommand.

pub mod price;
pub mod simulate;
pub mod serve;
