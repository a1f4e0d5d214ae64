//! One module per `jwo` subcommand.

pub mod connectivity;
pub mod load;
pub mod price;
pub mod serve;
pub mod simulate;
