//! Kiln's SQL engine: DataFusion over Delta tables (delta-rs), governed by Unity Catalog,
//! behind a statement layer that speaks Databricks SQL.

pub mod catalog;
pub mod error;
pub mod exec;
pub mod parse;
pub mod session;
pub mod types;

pub use error::SqlError;
pub use exec::{Executor, StatementContext, StatementOutput};
pub use session::ExecutionPool;
pub mod warehouses;
pub mod results;
pub mod statements;
pub mod samples;
pub mod signing;
pub mod history;
