//! Builds the DataFusion session one statement runs in: the caller's governed catalog, the
//! warehouse's memory pool, Databricks parsing rules, and `current_user()` and friends.

use std::num::NonZeroUsize;
use std::sync::Arc;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::ScalarValue;
use datafusion::error::Result as DfResult;
use datafusion::execution::memory_pool::{FairSpillPool, TrackConsumersPool};
use datafusion::execution::runtime_env::{RuntimeEnv, RuntimeEnvBuilder};
use datafusion::execution::{FunctionRegistry, SessionState, SessionStateBuilder};
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility};
use datafusion::prelude::SessionConfig;
use deltalake::delta_datafusion::planner::DeltaPlanner;

use crate::catalog::{Access, GovernedCatalogs};

/// What a warehouse gives its statements: a memory budget and how many may run at once.
#[derive(Debug, Clone)]
pub struct ExecutionPool {
    pub runtime: Arc<RuntimeEnv>,
    pub slots: Arc<tokio::sync::Semaphore>,
    pub target_partitions: usize,
    pub memory_bytes: usize,
}

impl ExecutionPool {
    /// A pool of `concurrency` statements sharing `memory_bytes`; operators that can spill
    /// do so under `spill_dir` rather than fail.
    pub fn new(concurrency: usize, memory_bytes: usize, spill_dir: &std::path::Path) -> Result<ExecutionPool, String> {
        let top_consumers = NonZeroUsize::new(5).expect("5 is not zero");
        let runtime = RuntimeEnvBuilder::new()
            .with_memory_pool(Arc::new(TrackConsumersPool::new(FairSpillPool::new(memory_bytes), top_consumers)))
            .with_temp_file_path(spill_dir)
            .build_arc()
            .map_err(|e| format!("cannot build the execution runtime: {e}"))?;
        let cores = std::thread::available_parallelism().map(NonZeroUsize::get).unwrap_or(2);
        Ok(ExecutionPool { runtime, slots: Arc::new(tokio::sync::Semaphore::new(concurrency.max(1))), target_partitions: cores, memory_bytes })
    }
}

/// The session for one statement by `access.caller`, resolving unqualified names against
/// `catalog` and `schema`.
pub fn session_state(pool: &ExecutionPool, access: Arc<Access>, catalog: &str, schema: &str) -> DfResult<SessionState> {
    let mut config = SessionConfig::new()
        .with_target_partitions(pool.target_partitions)
        .with_information_schema(false)
        .with_create_default_catalog_and_schema(false)
        .with_default_catalog_and_schema(catalog, schema);
    let options = config.options_mut();
    options.sql_parser.enable_ident_normalization = true;
    options.sql_parser.dialect = datafusion::common::config::Dialect::Databricks;
    // delta-rs works around a panic with dictionary join keys this way.
    options.optimizer.hash_join_inlist_pushdown_max_size = 0;
    options.optimizer.hash_join_inlist_pushdown_max_distinct_values = 0;
    let user = access.caller.name().to_string();
    let mut state = SessionStateBuilder::new()
        .with_config(config)
        .with_runtime_env(pool.runtime.clone())
        .with_default_features()
        .with_catalog_list(Arc::new(GovernedCatalogs::new(access)))
        .with_query_planner(DeltaPlanner::new())
        .build();
    for (name, value) in [("current_user", user), ("current_catalog", catalog.to_string()), ("current_schema", schema.to_string())] {
        state.register_udf(Arc::new(ScalarUDF::from(SessionValue::new(name, value))))?;
    }
    Ok(state)
}

/// A nullary function answering one value of the session: `current_user()`, ...
#[derive(Debug, PartialEq, Eq, Hash)]
struct SessionValue {
    name: &'static str,
    value: String,
    signature: Signature,
}

impl SessionValue {
    fn new(name: &'static str, value: String) -> SessionValue {
        SessionValue { name, value, signature: Signature::nullary(Volatility::Stable) }
    }
}

impl ScalarUDFImpl for SessionValue {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> DfResult<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, _args: ScalarFunctionArgs) -> DfResult<ColumnarValue> {
        Ok(ColumnarValue::Scalar(ScalarValue::Utf8(Some(self.value.clone()))))
    }
}
