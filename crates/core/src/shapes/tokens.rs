//! Token and secret-scope requests (`settings.py` and `workspace.py` of the SDK).

use super::{DESCRIPTION, NAME, NAMES, Shape, optional};

/// A lifetime in seconds; -1 is "never expires" (the services bound it further).
const LIFETIME: Shape = Shape::Int { min: -1, max: i64::MAX };

/// The body of `token/create`.
pub static TOKEN_CREATE: Shape =
    Shape::Object(&[optional("lifetime_seconds", LIFETIME), optional("comment", DESCRIPTION), optional("autoscope_enabled", Shape::Bool), optional("scopes", NAMES)]);

/// The body of `token-management/on-behalf-of/tokens`.
pub static ON_BEHALF_OF_TOKEN: Shape = Shape::Object(&[
    optional("application_id", NAME),
    optional("lifetime_seconds", LIFETIME),
    optional("comment", DESCRIPTION),
    optional("autoscope_enabled", Shape::Bool),
    optional("scopes", NAMES),
]);

/// The body of `secrets/scopes/create`.
pub static SCOPE_CREATE: Shape = Shape::Object(&[
    optional("scope", NAME),
    optional("initial_manage_principal", NAME),
    optional("scope_backend_type", Shape::Enum(&["AZURE_KEYVAULT", "DATABRICKS"])),
    optional("backend_azure_keyvault", super::ANY_OBJECT),
]);
