//! Kiln's SQL engine: DataFusion over Delta tables (delta-rs), governed by Unity Catalog,
//! behind a statement layer that speaks Databricks SQL.

mod audit_table;
pub mod catalog;
pub mod cluster_sql;
pub mod error;
pub mod exec;
pub mod history;
mod information_schema;
pub mod parse;
pub mod results;
pub mod samples;
pub mod session;
pub mod signing;
mod spark_window;
pub mod statements;
pub mod types;
pub mod warehouses;

pub use error::SqlError;
pub use exec::{Executor, StatementContext, StatementOutput};
pub use session::ExecutionPool;
