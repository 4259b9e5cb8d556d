//! MCP (Model Context Protocol) servers at Databricks' managed-server paths.
//!
//! The transport is Streamable HTTP served statelessly: every POST carries one JSON-RPC 2.0
//! message and gets one `application/json` answer, no session id is issued, and the HTTP
//! layer (in `kiln-server`) authenticates the bearer token before anything here runs. This
//! crate knows nothing of HTTP beyond the status an answer wants: [`protocol`] speaks
//! JSON-RPC and MCP's lifecycle; each server is a [`ToolServer`] whose tools call the same
//! services as the REST routes, so every ACL, grant and audit line applies unchanged.

pub mod functions;
pub mod protocol;
pub mod sql;
pub mod workspace;
mod tools;

pub use protocol::{Answer, handle, summary};
pub use tools::{Tool, ToolCall, ToolResult, ToolServer};
