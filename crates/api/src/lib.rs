//! Databricks wire types. Field names, casing and omission rules follow the official
//! `databricks-sdk`; unknown input fields are accepted everywhere, and optional output
//! fields are omitted rather than sent as `null`.

pub mod clusters;
pub mod dbfs;
pub mod error;
pub mod files;
pub mod jobs;
pub mod oauth;
pub mod page;
pub mod permissions;
pub mod scim;
pub mod secrets;
pub mod sql;
pub mod tokens;
pub mod uc;
pub mod workspace;
