//! SCIM identities (`iam.py` of the SDK): users, service principals and groups as stored after
//! a create, replace or patch, in SCIM's attribute names.

use super::{KEY, MAX_ITEMS, NAME, Shape, Text, optional, required};

/// Entitlements a workspace grants.
pub const ENTITLEMENTS: &[&str] = &["allow-cluster-create", "allow-instance-pool-create", "databricks-sql-access", "workspace-access", "workspace-consume"];

/// Longest user name, application id or display name Kiln keeps.
const MAX_PRINCIPAL_NAME_BYTES: usize = 256;
const PRINCIPAL_NAME: Shape = Shape::Str(Text::key(MAX_PRINCIPAL_NAME_BYTES));

/// A principal: `userName` (users), `applicationId` (service principals) or `displayName`
/// (groups) names it.
pub static PRINCIPAL: Shape = Shape::Object(&[
    optional("userName", PRINCIPAL_NAME),
    optional("applicationId", PRINCIPAL_NAME),
    optional("displayName", PRINCIPAL_NAME),
    optional("externalId", NAME),
    optional("entitlements", Shape::Array(&Shape::Object(&[required("value", Shape::Enum(ENTITLEMENTS))]), MAX_ITEMS)),
    optional("roles", Shape::Array(&Shape::Object(&[required("value", KEY)]), MAX_ITEMS)),
    optional(
        "emails",
        Shape::Array(&Shape::Object(&[optional("value", NAME), optional("display", NAME), optional("primary", Shape::Bool), optional("type", NAME)]), MAX_ITEMS),
    ),
    optional("name", Shape::Object(&[optional("givenName", NAME), optional("familyName", NAME)])),
]);
