//! Databricks SQL (`sql.py` of the SDK): SQL warehouses and saved queries.

use super::{DESCRIPTION, KEY, MAX_ITEMS, MINUTES, NAME, NAMES, SECONDS, Shape, Text, VALUE, VALUES, optional, required};

/// Longest saved query: the longest statement the SQL engine runs.
pub const MAX_QUERY_TEXT_BYTES: usize = 16 * 1024 * 1024;
/// Warehouse names are shorter than 100 characters, as Databricks documents.
const MAX_WAREHOUSE_NAME_BYTES: usize = 99;

/// The body of `warehouses/create` and `warehouses/{id}/edit`. `cluster_size` is matched
/// without regard to case by the engine's own rules, which also refuse `auto_stop_mins` from
/// 1 to 9 and a minimum above the maximum.
pub static WAREHOUSE: Shape = Shape::Object(&[
    optional("auto_stop_mins", MINUTES),
    optional("channel", Shape::Object(&[optional("dbsql_version", NAME), optional("name", Shape::Enum(&["CHANNEL_NAME_CURRENT", "CHANNEL_NAME_CUSTOM", "CHANNEL_NAME_PREVIEW", "CHANNEL_NAME_PREVIOUS"]))])),
    optional("cluster_size", NAME),
    optional("creator_name", NAME),
    optional("customer_version_label", NAME),
    optional("reyden_cluster_size_multiplier", Shape::Number),
    optional("enable_photon", Shape::Bool),
    optional("enable_serverless_compute", Shape::Bool),
    optional("instance_profile_arn", NAME),
    // Databricks: a multiple of 3 from 3 to 960.
    optional("max_dbu", Shape::Int { min: 3, max: 960 }),
    optional("max_num_clusters", Shape::Int { min: 1, max: 40 }),
    optional("min_num_clusters", Shape::Int { min: 1, max: 30 }),
    optional("name", Shape::Str(Text::key(MAX_WAREHOUSE_NAME_BYTES))),
    optional("spot_instance_policy", Shape::Enum(&["COST_OPTIMIZED", "POLICY_UNSPECIFIED", "RELIABILITY_OPTIMIZED"])),
    optional("statement_timeout", SECONDS),
    optional("tags", Shape::Object(&[optional("custom_tags", Shape::Array(&Shape::Object(&[required("key", KEY), optional("value", NAME)]), MAX_ITEMS))])),
    optional("warehouse_type", Shape::Enum(&["CLASSIC", "PRO", "REALTIME", "TYPE_UNSPECIFIED"])),
]);

const DATE_PRECISION: Shape = Shape::Enum(&["DAY_PRECISION", "MINUTE_PRECISION", "SECOND_PRECISION"]);

const MULTI_VALUES_OPTIONS: Shape = Shape::Object(&[optional("prefix", NAME), optional("separator", NAME), optional("suffix", NAME)]);

const QUERY_PARAMETER: Shape = Shape::Object(&[
    optional("name", KEY),
    optional("title", NAME),
    optional("text_value", Shape::Object(&[optional("value", VALUE)])),
    optional("numeric_value", Shape::Object(&[optional("value", Shape::Number)])),
    optional("enum_value", Shape::Object(&[optional("enum_options", VALUE), optional("multi_values_options", MULTI_VALUES_OPTIONS), optional("values", VALUES)])),
    optional("query_backed_value", Shape::Object(&[optional("multi_values_options", MULTI_VALUES_OPTIONS), optional("query_id", NAME), optional("values", VALUES)])),
    optional(
        "date_value",
        Shape::Object(&[optional("date_value", NAME), optional("dynamic_date_value", Shape::Enum(&["NOW", "YESTERDAY"])), optional("precision", DATE_PRECISION)]),
    ),
    optional(
        "date_range_value",
        Shape::Object(&[
            optional("date_range_value", Shape::Object(&[required("start", NAME), required("end", NAME)])),
            optional(
                "dynamic_date_range_value",
                Shape::Enum(&[
                    "LAST_12_MONTHS",
                    "LAST_14_DAYS",
                    "LAST_24_HOURS",
                    "LAST_30_DAYS",
                    "LAST_60_DAYS",
                    "LAST_7_DAYS",
                    "LAST_8_HOURS",
                    "LAST_90_DAYS",
                    "LAST_HOUR",
                    "LAST_MONTH",
                    "LAST_WEEK",
                    "LAST_YEAR",
                    "THIS_MONTH",
                    "THIS_WEEK",
                    "THIS_YEAR",
                    "TODAY",
                    "YESTERDAY",
                ]),
            ),
            optional("precision", DATE_PRECISION),
            optional("start_day_of_week", Shape::Int { min: 0, max: 6 }),
        ]),
    ),
]);

/// A saved query as stored: `query` of a create, or the result of an update's field mask.
pub static QUERY: Shape = Shape::Object(&[
    optional("apply_auto_limit", Shape::Bool),
    optional("catalog", NAME),
    optional("description", DESCRIPTION),
    required("display_name", KEY),
    optional("owner_user_name", NAME),
    optional("parameters", Shape::Array(&QUERY_PARAMETER, MAX_ITEMS)),
    optional("parent_path", NAME),
    required("query_text", Shape::Str(Text { max_bytes: MAX_QUERY_TEXT_BYTES, multiline: true, non_empty: true })),
    optional("run_as_mode", Shape::Enum(&["OWNER", "VIEWER"])),
    optional("schema", NAME),
    optional("tags", NAMES),
    optional("warehouse_id", NAME),
]);

/// The body of a statement execution (`StatementExecutionAPI.execute_statement`).
pub static STATEMENT: Shape = Shape::Object(&[
    required("statement", Shape::Str(Text::free(16 * 1024 * 1024))),
    required("warehouse_id", NAME),
    optional("catalog", NAME),
    optional("schema", NAME),
    optional(
        "parameters",
        Shape::Array(&Shape::Object(&[required("name", KEY), optional("value", Shape::Str(Text::free(16 * 1024 * 1024))), optional("type", NAME)]), 10_000),
    ),
    optional("query_tags", Shape::Array(&Shape::Object(&[required("key", KEY), optional("value", VALUE)]), MAX_ITEMS)),
    optional("row_limit", Shape::Int { min: 0, max: i64::MAX }),
    optional("byte_limit", Shape::Int { min: 0, max: i64::MAX }),
    optional("wait_timeout", NAME),
    optional("on_wait_timeout", Shape::Enum(&["CANCEL", "CONTINUE"])),
    optional("disposition", Shape::Enum(&["EXTERNAL_LINKS", "INLINE"])),
    optional("format", Shape::Enum(&["ARROW_STREAM", "CSV", "JSON_ARRAY"])),
]);
