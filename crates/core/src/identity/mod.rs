//! Identities: SCIM users, service principals and groups, and SCIM filtering.

pub mod filter;
mod render;
mod scim;

pub use render::{render, render_me};
pub use scim::{ListPage, ScimService};
