//! `row_number()`, `rank()`, `dense_rank()` and `ntile()` answering INT, as in Spark, where
//! DataFusion answers BIGINT UNSIGNED: DataFusion's functions, with their results cast.

use std::ops::Range;
use std::sync::Arc;

use datafusion::arrow::array::ArrayRef;
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::ScalarValue;
use datafusion::error::Result;
use datafusion::logical_expr::function::{ExpressionArgs, PartitionEvaluatorArgs, WindowUDFFieldArgs};
use datafusion::logical_expr::window_state::WindowAggState;
use datafusion::logical_expr::{LimitEffect, PartitionEvaluator, ReversedUDWF, Signature, WindowUDF, WindowUDFImpl};
use datafusion::physical_expr::PhysicalExpr;

/// The functions Spark types as INT.
pub(crate) const INT_RANKINGS: &[&str] = &["row_number", "rank", "dense_rank", "ntile"];

/// `inner`, answering INT.
pub(crate) fn as_int(inner: Arc<WindowUDF>) -> WindowUDF {
    WindowUDF::new_from_impl(IntRanking { inner })
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct IntRanking {
    inner: Arc<WindowUDF>,
}

impl WindowUDFImpl for IntRanking {
    fn name(&self) -> &str {
        self.inner.inner().name()
    }

    fn aliases(&self) -> &[String] {
        self.inner.inner().aliases()
    }

    fn signature(&self) -> &Signature {
        self.inner.inner().signature()
    }

    fn expressions(&self, args: ExpressionArgs) -> Vec<Arc<dyn PhysicalExpr>> {
        self.inner.inner().expressions(args)
    }

    fn partition_evaluator(&self, args: PartitionEvaluatorArgs) -> Result<Box<dyn PartitionEvaluator>> {
        Ok(Box::new(IntEvaluator { inner: self.inner.inner().partition_evaluator(args)? }))
    }

    fn field(&self, args: WindowUDFFieldArgs) -> Result<FieldRef> {
        let field = self.inner.inner().field(args)?;
        Ok(Arc::new(Field::new(field.name(), DataType::Int32, field.is_nullable())))
    }

    fn sort_options(&self) -> Option<datafusion::arrow::compute::SortOptions> {
        self.inner.inner().sort_options()
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        self.inner.inner().coerce_types(arg_types)
    }

    fn reverse_expr(&self) -> ReversedUDWF {
        match self.inner.inner().reverse_expr() {
            ReversedUDWF::Reversed(reversed) => ReversedUDWF::Reversed(Arc::new(as_int(reversed))),
            other => other,
        }
    }

    fn limit_effect(&self, args: &[Arc<dyn PhysicalExpr>]) -> LimitEffect {
        self.inner.inner().limit_effect(args)
    }
}

#[derive(Debug)]
struct IntEvaluator {
    inner: Box<dyn PartitionEvaluator>,
}

fn to_int(array: ArrayRef) -> Result<ArrayRef> {
    Ok(cast(&array, &DataType::Int32)?)
}

impl PartitionEvaluator for IntEvaluator {
    fn memoize(&mut self, state: &mut WindowAggState) -> Result<()> {
        self.inner.memoize(state)
    }

    fn get_range(&self, idx: usize, n_rows: usize) -> Result<Range<usize>> {
        self.inner.get_range(idx, n_rows)
    }

    fn is_causal(&self) -> bool {
        self.inner.is_causal()
    }

    fn evaluate_all(&mut self, values: &[ArrayRef], num_rows: usize) -> Result<ArrayRef> {
        to_int(self.inner.evaluate_all(values, num_rows)?)
    }

    fn evaluate(&mut self, values: &[ArrayRef], range: &Range<usize>) -> Result<ScalarValue> {
        self.inner.evaluate(values, range)?.cast_to(&DataType::Int32)
    }

    fn evaluate_all_with_rank(&self, num_rows: usize, ranks_in_partition: &[Range<usize>]) -> Result<ArrayRef> {
        to_int(self.inner.evaluate_all_with_rank(num_rows, ranks_in_partition)?)
    }

    fn supports_bounded_execution(&self) -> bool {
        self.inner.supports_bounded_execution()
    }

    fn uses_window_frame(&self) -> bool {
        self.inner.uses_window_frame()
    }

    fn include_rank(&self) -> bool {
        self.inner.include_rank()
    }
}
