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

/// A `{value, display, type, primary, $ref}` item of a SCIM list attribute.
const COMPLEX_VALUE: Shape =
    Shape::Object(&[optional("value", NAME), optional("display", NAME), optional("type", NAME), optional("primary", Shape::Bool), optional("$ref", NAME)]);

const SCHEMAS: Shape = Shape::Array(
    &Shape::Enum(&[
        "urn:ietf:params:scim:schemas:core:2.0:User",
        "urn:ietf:params:scim:schemas:core:2.0:Group",
        "urn:ietf:params:scim:schemas:core:2.0:ServicePrincipal",
        "urn:ietf:params:scim:schemas:extension:workspace:2.0:User",
    ]),
    MAX_ITEMS,
);

/// The body of a SCIM create or replace, as sent: every list attribute of complex values
/// typed, whether Kiln keeps it or not.
pub static RESOURCE_INPUT: Shape = Shape::Object(&[
    optional("schemas", SCHEMAS),
    optional("userName", PRINCIPAL_NAME),
    optional("applicationId", PRINCIPAL_NAME),
    optional("displayName", PRINCIPAL_NAME),
    optional("externalId", NAME),
    optional("active", Shape::Bool),
    optional("name", Shape::Object(&[optional("givenName", NAME), optional("familyName", NAME)])),
    optional("emails", Shape::Array(&COMPLEX_VALUE, MAX_ITEMS)),
    optional("entitlements", Shape::Array(&COMPLEX_VALUE, MAX_ITEMS)),
    optional("roles", Shape::Array(&COMPLEX_VALUE, MAX_ITEMS)),
    optional("groups", Shape::Array(&COMPLEX_VALUE, MAX_ITEMS)),
    optional("members", Shape::Array(&COMPLEX_VALUE, MAX_ITEMS)),
]);

/// The body of a SCIM PATCH: the PatchOp schema and its operations.
pub static PATCH: Shape = Shape::Object(&[
    optional("schemas", Shape::Array(&Shape::Enum(&["urn:ietf:params:scim:api:messages:2.0:PatchOp"]), MAX_ITEMS)),
    optional(
        "Operations",
        Shape::Array(&Shape::Object(&[required("op", Shape::Enum(&["add", "remove", "replace", "Add", "Remove", "Replace"])), optional("path", NAME), optional("value", Shape::Any)]), MAX_ITEMS),
    ),
]);
