//! Unity Catalog (`catalog.py` of the SDK): catalogs, schemas, volumes and SQL functions. Names
//! are then folded and checked by `uc::names`, which also bounds them to 255 characters.

use super::{DESCRIPTION, KEY, MAX_ITEMS, NAME, Shape, Text, VALUE, optional, required};

/// The longest SQL body of a function Kiln keeps.
const MAX_ROUTINE_BYTES: usize = 1024 * 1024;

const COLUMN_TYPE_NAME: Shape = Shape::Enum(&[
    "ARRAY",
    "BINARY",
    "BOOLEAN",
    "BYTE",
    "CHAR",
    "DATE",
    "DECIMAL",
    "DOUBLE",
    "FLOAT",
    "GEOGRAPHY",
    "GEOMETRY",
    "INT",
    "INTERVAL",
    "LONG",
    "MAP",
    "NULL",
    "SHORT",
    "STRING",
    "STRUCT",
    "TABLE_TYPE",
    "TIMESTAMP",
    "TIMESTAMP_NTZ",
    "USER_DEFINED_TYPE",
    "VARIANT",
]);

/// Declared int32 on the wire.
const INT32: Shape = Shape::Int { min: 0, max: i32::MAX as i64 };

const PROPERTIES: Shape = Shape::Map(&VALUE, MAX_ITEMS);

/// What creates of catalogs, schemas and volumes set (tables come from SQL).
pub static SECURABLE: Shape = Shape::Object(&[
    optional("name", NAME),
    optional("catalog_name", NAME),
    optional("schema_name", NAME),
    optional("comment", DESCRIPTION),
    optional("properties", PROPERTIES),
    optional("storage_root", NAME),
    optional("storage_location", NAME),
    optional("volume_type", Shape::Enum(&["EXTERNAL", "MANAGED"])),
    // Databricks fields Kiln has no use for (foreign, shared and encrypted catalogs, retention):
    // still refused when they are not of their type.
    optional("provider_name", NAME),
    optional("share_name", NAME),
    optional("connection_name", NAME),
    optional("options", PROPERTIES),
    optional("custom_max_retention_hours", INT32),
    optional("managed_encryption_settings", super::ANY_OBJECT),
]);

/// What an update of a securable sets.
pub static UPDATE: Shape = Shape::Object(&[
    optional("new_name", NAME),
    optional("owner", NAME),
    optional("comment", DESCRIPTION),
    optional("properties", PROPERTIES),
    optional("options", PROPERTIES),
    optional("custom_max_retention_hours", INT32),
    optional("managed_encryption_settings", super::ANY_OBJECT),
    optional("enable_predictive_optimization", Shape::Enum(&["DISABLE", "ENABLE", "INHERIT"])),
    optional("isolation_mode", Shape::Enum(&["ISOLATED", "OPEN"])),
]);

/// The body of a function create.
pub static FUNCTION_CREATE: Shape = Shape::Object(&[required("function_info", Shape::Ref(&FUNCTION))]);

/// The body of a grants update (`PATCH .../permissions/{type}/{name}`).
pub static GRANTS_UPDATE: Shape = Shape::Object(&[
    optional(
        "changes",
        Shape::Array(&Shape::Object(&[required("principal", NAME), optional("add", super::NAMES), optional("remove", super::NAMES)]), MAX_ITEMS),
    ),
    optional("omit_permissions_in_response", Shape::Bool),
]);

const FUNCTION_PARAMETER: Shape = Shape::Object(&[
    required("name", KEY),
    required("type_text", KEY),
    required("type_name", COLUMN_TYPE_NAME),
    required("position", INT32),
    optional("comment", DESCRIPTION),
    optional("parameter_default", VALUE),
    optional("parameter_mode", Shape::Enum(&["IN"])),
    optional("parameter_type", Shape::Enum(&["COLUMN", "PARAM"])),
    optional("type_interval_type", NAME),
    optional("type_json", VALUE),
    optional("type_precision", INT32),
    optional("type_scale", INT32),
]);

const FUNCTION_PARAMETERS: Shape = Shape::Object(&[optional("parameters", Shape::Array(&FUNCTION_PARAMETER, MAX_ITEMS))]);

const DEPENDENCY: Shape = Shape::Object(&[
    optional("connection", Shape::Object(&[optional("connection_name", NAME)])),
    optional("credential", Shape::Object(&[optional("credential_name", NAME)])),
    optional("function", Shape::Object(&[required("function_full_name", KEY)])),
    optional("table", Shape::Object(&[required("table_full_name", KEY)])),
]);

/// `function_info` of a function create (`CreateFunction`).
pub static FUNCTION: Shape = Shape::Object(&[
    required("name", KEY),
    required("catalog_name", KEY),
    required("schema_name", KEY),
    optional("input_params", FUNCTION_PARAMETERS),
    required("data_type", COLUMN_TYPE_NAME),
    required("full_data_type", KEY),
    required("routine_body", Shape::Enum(&["EXTERNAL", "SQL"])),
    required("routine_definition", Shape::Str(Text::free(MAX_ROUTINE_BYTES))),
    optional("parameter_style", Shape::Enum(&["S"])),
    optional("is_deterministic", Shape::Bool),
    optional("sql_data_access", Shape::Enum(&["CONTAINS_SQL", "NO_SQL", "READS_SQL_DATA"])),
    optional("is_null_call", Shape::Bool),
    optional("security_type", Shape::Enum(&["DEFINER"])),
    optional("specific_name", NAME),
    optional("comment", DESCRIPTION),
    optional("external_language", NAME),
    optional("external_name", NAME),
    optional("properties", VALUE),
    optional("return_params", FUNCTION_PARAMETERS),
    optional("routine_dependencies", Shape::Object(&[optional("dependencies", Shape::Array(&DEPENDENCY, MAX_ITEMS))])),
    optional("sql_path", NAME),
]);
