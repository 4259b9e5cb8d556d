//! Identities: SCIM filtering over users, groups and service principals.

pub mod filter;
