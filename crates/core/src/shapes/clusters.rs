//! Clusters (`compute.py` of the SDK): the spec of `clusters/create` and `clusters/edit`, which
//! jobs also take as `new_cluster`, and libraries.

use super::{COUNT, KEY, MAX_ITEMS, NAME, NAMES, Shape, Text, VALUE, optional, required};

/// Fields Databricks declares int32 that Kiln only stores and echoes.
const INT32: Shape = Shape::Int { min: 0, max: i32::MAX as i64 };
/// Most custom tags of a cluster, as Databricks documents.
const MAX_CUSTOM_TAGS: usize = 45;
/// Longest cluster name Kiln keeps.
const MAX_CLUSTER_NAME_BYTES: usize = 100;

const DESTINATION: Shape = Shape::Object(&[required("destination", KEY)]);

const S3_DESTINATION: Shape = Shape::Object(&[
    required("destination", KEY),
    optional("canned_acl", NAME),
    optional("enable_encryption", Shape::Bool),
    optional("encryption_type", NAME),
    optional("endpoint", NAME),
    optional("kms_key", NAME),
    optional("region", NAME),
]);

const AWS_ATTRIBUTES: Shape = Shape::Object(&[
    optional("availability", Shape::Enum(&["ON_DEMAND", "SPOT", "SPOT_WITH_FALLBACK"])),
    optional("ebs_volume_count", INT32),
    optional("ebs_volume_iops", INT32),
    optional("ebs_volume_size", INT32),
    optional("ebs_volume_throughput", INT32),
    optional("ebs_volume_type", Shape::Enum(&["GENERAL_PURPOSE_SSD", "THROUGHPUT_OPTIMIZED_HDD"])),
    optional("first_on_demand", INT32),
    optional("instance_profile_arn", NAME),
    // Databricks enforces at most 10000.
    optional("spot_bid_price_percent", Shape::Int { min: 0, max: 10_000 }),
    optional("zone_id", NAME),
]);

const AZURE_ATTRIBUTES: Shape = Shape::Object(&[
    optional("availability", Shape::Enum(&["ON_DEMAND_AZURE", "SPOT_AZURE", "SPOT_WITH_FALLBACK_AZURE"])),
    optional("capacity_reservation_group", NAME),
    optional("first_on_demand", INT32),
    optional("log_analytics_info", Shape::Object(&[optional("log_analytics_primary_key", NAME), optional("log_analytics_workspace_id", NAME)])),
    optional("spot_bid_max_price", Shape::Number),
]);

const GCP_ATTRIBUTES: Shape = Shape::Object(&[
    optional("availability", Shape::Enum(&["ON_DEMAND_GCP", "PREEMPTIBLE_GCP", "PREEMPTIBLE_WITH_FALLBACK_GCP"])),
    optional("boot_disk_size", INT32),
    optional("confidential_compute_type", Shape::Enum(&["CONFIDENTIAL_COMPUTE_TYPE_NONE", "SEV_SNP"])),
    optional("first_on_demand", INT32),
    optional("google_service_account", NAME),
    optional("local_ssd_count", INT32),
    optional("use_preemptible_executors", Shape::Bool),
    optional("zone_id", NAME),
]);

const INIT_SCRIPT: Shape = Shape::Object(&[
    optional("abfss", DESTINATION),
    optional("dbfs", DESTINATION),
    optional("file", DESTINATION),
    optional("gcs", DESTINATION),
    optional("s3", S3_DESTINATION),
    optional("volumes", DESTINATION),
    optional("workspace", DESTINATION),
]);

const NODE_TYPE_FLEXIBILITY: Shape = Shape::Object(&[optional("alternate_node_type_ids", NAMES), optional("aws_context_id", NAME)]);

/// A library to install on a cluster or for a task.
pub static LIBRARY: Shape = Shape::Object(&[
    optional("cran", Shape::Object(&[required("package", KEY), optional("repo", NAME)])),
    optional("egg", NAME),
    optional("jar", NAME),
    optional("maven", Shape::Object(&[required("coordinates", KEY), optional("exclusions", NAMES), optional("repo", NAME)])),
    optional("pypi", Shape::Object(&[required("package", KEY), optional("repo", NAME)])),
    optional("requirements", NAME),
    optional("whl", NAME),
]);

/// `ClusterSpec`, plus `clone_from` of a create. `spark_version` is required by Kiln's own
/// rules (`clusters::spec`), which also check the runtimes and node types offered.
pub static CLUSTER_SPEC: Shape = Shape::Object(&[
    optional("apply_policy_default_values", Shape::Bool),
    // Kiln sizes nothing by them, but both bounds are needed to compare them.
    optional("autoscale", Shape::Object(&[required("max_workers", COUNT), required("min_workers", COUNT)])),
    // Databricks: 0 (never) or from 10 to 10000 minutes; `clusters::spec` refuses 1 to 9.
    optional("autotermination_minutes", Shape::Int { min: 0, max: 10_000 }),
    optional("aws_attributes", AWS_ATTRIBUTES),
    optional("azure_attributes", AZURE_ATTRIBUTES),
    optional("clone_from", Shape::Object(&[required("source_cluster_id", KEY)])),
    // An edit names its cluster in the body.
    optional("cluster_id", NAME),
    optional("cluster_log_conf", Shape::Object(&[optional("dbfs", DESTINATION), optional("s3", S3_DESTINATION), optional("volumes", DESTINATION)])),
    optional("cluster_name", Shape::Str(Text::name(MAX_CLUSTER_NAME_BYTES))),
    optional("custom_tags", Shape::Map(&NAME, MAX_CUSTOM_TAGS)),
    optional(
        "data_security_mode",
        Shape::Enum(&[
            "DATA_SECURITY_MODE_AUTO",
            "DATA_SECURITY_MODE_DEDICATED",
            "DATA_SECURITY_MODE_STANDARD",
            "LEGACY_PASSTHROUGH",
            "LEGACY_SINGLE_USER",
            "LEGACY_SINGLE_USER_STANDARD",
            "LEGACY_TABLE_ACL",
            "NONE",
            "SINGLE_USER",
            "USER_ISOLATION",
        ]),
    ),
    optional("dependency_mode", Shape::Enum(&["DEPENDENCY_MODE_AUTO", "DEPENDENCY_MODE_CLUSTER_LIBRARIES", "DEPENDENCY_MODE_ENVIRONMENTS"])),
    optional("docker_image", Shape::Object(&[optional("basic_auth", Shape::Object(&[optional("password", NAME), optional("username", NAME)])), optional("url", NAME)])),
    optional("driver_instance_pool_id", NAME),
    optional("driver_node_type_flexibility", NODE_TYPE_FLEXIBILITY),
    optional("driver_node_type_id", NAME),
    optional("enable_elastic_disk", Shape::Bool),
    optional("enable_local_disk_encryption", Shape::Bool),
    optional("gcp_attributes", GCP_ATTRIBUTES),
    optional("init_scripts", Shape::Array(&INIT_SCRIPT, MAX_ITEMS)),
    optional("instance_pool_id", NAME),
    optional("is_single_node", Shape::Bool),
    optional("kind", Shape::Enum(&["CLASSIC_PREVIEW"])),
    optional("node_type_id", NAME),
    optional("num_workers", COUNT),
    optional("policy_id", NAME),
    optional("remote_disk_throughput", INT32),
    optional("runtime_engine", Shape::Enum(&["NULL", "PHOTON", "STANDARD"])),
    optional("single_user_name", NAME),
    optional("spark_conf", Shape::Map(&VALUE, MAX_ITEMS)),
    optional("spark_env_vars", Shape::Map(&VALUE, MAX_ITEMS)),
    optional("spark_version", KEY),
    optional("ssh_public_keys", NAMES),
    optional("total_initial_remote_disk_size", INT32),
    optional("use_ml_runtime", Shape::Bool),
    optional("worker_node_type_flexibility", NODE_TYPE_FLEXIBILITY),
    optional("workload_type", Shape::Object(&[required("clients", Shape::Object(&[optional("jobs", Shape::Bool), optional("notebooks", Shape::Bool)]))])),
]);
