//! Builds the DataFusion session one statement runs in: the caller's governed catalog, the
//! warehouse's memory pool, Databricks parsing rules, and `current_user()` and friends.

use std::num::NonZeroUsize;
use std::sync::Arc;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::ScalarValue;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_optimizer::optimizer::PhysicalOptimizer;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::coop::CooperativeExec;
use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::catalog::view::ViewTable;
use datafusion::error::Result as DfResult;
use datafusion::execution::memory_pool::{FairSpillPool, TrackConsumersPool};
use datafusion::execution::runtime_env::{RuntimeEnv, RuntimeEnvBuilder};
use datafusion::execution::{FunctionRegistry, SessionState, SessionStateBuilder};
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility};
use datafusion::prelude::SessionConfig;
use deltalake::delta_datafusion::planner::DeltaPlanner;

use crate::catalog::{Access, GovernedCatalogs};

/// What a warehouse gives its statements: a memory budget, how many may run at once, and
/// the session they start from.
#[derive(Debug, Clone)]
pub struct ExecutionPool {
    pub runtime: Arc<RuntimeEnv>,
    pub slots: Arc<tokio::sync::Semaphore>,
    pub concurrency: usize,
    pub memory_bytes: usize,
    /// Everything a statement's session has that does not depend on who runs it: the
    /// functions, parser rules, planners and optimizer rules. Built once, because building
    /// it costs more than planning a small query; each statement clones it.
    prepared: Arc<SessionState>,
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
        let prepared = Arc::new(prepared_state(runtime.clone()));
        let concurrency = concurrency.max(1);
        Ok(ExecutionPool { runtime, slots: Arc::new(tokio::sync::Semaphore::new(concurrency)), concurrency, memory_bytes, prepared })
    }

    /// Whether a statement holds one of the pool's slots.
    pub fn is_busy(&self) -> bool {
        self.slots.available_permits() < self.concurrency
    }
}

fn prepared_state(runtime: Arc<RuntimeEnv>) -> SessionState {
    let cores = std::thread::available_parallelism().map(NonZeroUsize::get).unwrap_or(2);
    let mut config = SessionConfig::new().with_target_partitions(cores).with_information_schema(false).with_create_default_catalog_and_schema(false);
    let options = config.options_mut();
    options.sql_parser.enable_ident_normalization = true;
    // As in Spark, `2.5` is DECIMAL(2,1), not DOUBLE.
    options.sql_parser.parse_float_as_decimal = true;
    options.sql_parser.dialect = datafusion::common::config::Dialect::Databricks;
    // delta-rs works around a panic with dictionary join keys this way.
    options.optimizer.hash_join_inlist_pushdown_max_size = 0;
    options.optimizer.hash_join_inlist_pushdown_max_distinct_values = 0;
    let mut state = SessionStateBuilder::new()
        .with_config(config)
        .with_runtime_env(runtime)
        .with_default_features()
        .with_query_planner(DeltaPlanner::new())
        .with_physical_optimizer_rules(physical_optimizer_rules())
        .build();
    state.register_udtf("range", Arc::new(SparkRange));
    for name in crate::spark_window::INT_RANKINGS {
        if let Some(function) = state.window_functions().get(*name).cloned() {
            let _ = state.register_udwf(Arc::new(crate::spark_window::as_int(function)));
        }
    }
    // Spark's names for DataFusion functions.
    for (spark, datafusion) in [("array", "make_array")] {
        if let Some(function) = state.scalar_functions().get(datafusion).cloned() {
            let _ = state.register_udf(Arc::new(function.as_ref().clone().with_aliases([spark])));
        }
    }
    state
}

/// The session for one statement by `access.caller`, resolving unqualified names against
/// `catalog` and `schema`.
pub fn session_state(pool: &ExecutionPool, access: Arc<Access>, catalog: &str, schema: &str) -> DfResult<SessionState> {
    let user = access.invoker.clone();
    let mut state = SessionState::clone(&pool.prepared);
    let catalog_options = &mut state.config_mut().options_mut().catalog;
    catalog_options.default_catalog = catalog.to_string();
    catalog_options.default_schema = schema.to_string();
    state.register_catalog_list(Arc::new(GovernedCatalogs::new(access)));
    for (name, value) in [("current_user", user), ("current_catalog", catalog.to_string()), ("current_schema", schema.to_string())] {
        state.register_udf(Arc::new(ScalarUDF::from(SessionValue::new(name, value))))?;
    }
    // `now()` and friends answer one instant for the whole statement.
    state.mark_start_execution();
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

/// Stack of every thread that parses, plans or runs SQL. Parsing, planning, optimizing and
/// evaluating recurse over the statement's tree; the parser's limits
/// (`parse::limits::MAX_EXPRESSION_DEPTH`) keep the deepest statement well inside this, with
/// room for the unoptimized frames of a debug build. Untouched stack costs address space only.
pub const QUERY_THREAD_STACK_BYTES: usize = 256 * 1024 * 1024;

/// The runtime statements run on, apart from the one serving HTTP: CPU-heavy queries then
/// cannot starve request handling (polls, cancels, other APIs), and their threads have the
/// stack deep statements need. It lives for the process.
pub fn query_runtime() -> &'static tokio::runtime::Runtime {
    static RUNTIME: std::sync::OnceLock<tokio::runtime::Runtime> = std::sync::OnceLock::new();
    RUNTIME.get_or_init(|| {
        let cores = std::thread::available_parallelism().map(NonZeroUsize::get).unwrap_or(2);
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(cores)
            .thread_stack_size(QUERY_THREAD_STACK_BYTES)
            .thread_name("kiln-query")
            .enable_all()
            .build()
            .expect("the query runtime starts")
    })
}

/// DataFusion's physical optimizer rules, then [`YieldEverywhere`].
fn physical_optimizer_rules() -> Vec<Arc<dyn PhysicalOptimizerRule + Send + Sync>> {
    let mut rules = PhysicalOptimizer::new().rules;
    rules.push(Arc::new(YieldEverywhere));
    rules
}

/// Makes every operator's stream give way to the scheduler now and then. DataFusion does so
/// at scans and exchanges, but an operator that makes many batches from few (a cross join)
/// can then run for minutes without yielding, and a canceled statement's task is only
/// dropped when it yields. The cost is a budget check per batch.
#[derive(Debug)]
struct YieldEverywhere;

impl PhysicalOptimizerRule for YieldEverywhere {
    fn optimize(&self, plan: Arc<dyn ExecutionPlan>, _config: &ConfigOptions) -> DfResult<Arc<dyn ExecutionPlan>> {
        plan.transform_up(|node| {
            if node.name() == "CooperativeExec" {
                return Ok(Transformed::no(node));
            }
            Ok(Transformed::yes(Arc::new(CooperativeExec::new(node)) as Arc<dyn ExecutionPlan>))
        })
        .map(|transformed| transformed.data)
    }

    fn name(&self) -> &str {
        "YieldEverywhere"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

/// `range(end)`, `range(start, end[, step])` as Spark has it: one BIGINT column `id`
/// (DataFusion's own `range` names it `value`).
#[derive(Debug)]
struct SparkRange;

impl TableFunctionImpl for SparkRange {
    fn call_with_args(&self, args: TableFunctionArgs) -> DfResult<Arc<dyn TableProvider>> {
        use datafusion::logical_expr::{LogicalPlanBuilder, col};
        let exprs = args.exprs();
        // Spark's optional fourth argument is a partition count, which has no meaning here.
        let exprs = &exprs[..exprs.len().min(3)];
        let values = datafusion::functions_table::generate_series::RangeFunc {}.call_with_args(TableFunctionArgs::new(exprs, args.session()))?;
        let plan = LogicalPlanBuilder::scan("range", datafusion::datasource::provider_as_source(values), None)?.project(vec![col("value").alias("id")])?.build()?;
        Ok(Arc::new(ViewTable::new(plan, None)))
    }
}
