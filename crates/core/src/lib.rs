//! Kiln's domain: errors, principals, authorization and the audit log. Services per API group
//! build on these.

pub mod audit;
pub mod authz;
pub mod clock;
pub mod clusters;
pub mod cron;
pub mod dbfs;
pub mod error;
pub mod files;
pub mod ids;
pub mod jobs;
pub mod notifications;
pub mod principal;
pub mod queries;
pub mod sandbox;
pub mod secrets;
pub mod shapes;

pub use error::{Error, ErrorCode, Result};
pub mod authn;
pub mod workspace;
pub mod workspace_conf;
pub mod workspace_tree;
pub mod identity;
pub mod tokens;
pub mod permissions;
pub mod oauth;
pub mod panics;
pub mod paths;
pub mod uc;
