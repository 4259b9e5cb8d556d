//! `system.access.audit`: the workspace's audit log as a table, read page by page from the
//! store while the statement runs (the log can be far larger than memory). Workspace admins
//! may read it, as metastore admins may on Databricks.

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, Date32Array, Int32Array, MapBuilder, StringArray, StringBuilder, StructArray, TimestampMicrosecondArray};
use datafusion::arrow::datatypes::{DataType, Field, Fields, Schema, SchemaRef, TimeUnit};
use datafusion::arrow::record_batch::RecordBatch;
use datafusion::catalog::TableProvider;
use datafusion::catalog::streaming::StreamingTable;
use datafusion::error::DataFusionError;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::streaming::PartitionStream;
use kiln_core::audit::AuditLog;
use kiln_store::{AuditDecision, AuditEvent, AuditFilter};

use crate::catalog::Access;
use crate::error::SqlError;

pub(crate) const SCHEMA_NAME: &str = "access";
pub(crate) const TABLE_NAME: &str = "audit";
/// Events read from the store at a time.
const PAGE: usize = 8192;

fn user_identity_fields() -> Fields {
    Fields::from(vec![Field::new("email", DataType::Utf8, true), Field::new("subject_name", DataType::Utf8, true)])
}

fn response_fields() -> Fields {
    Fields::from(vec![Field::new("status_code", DataType::Int32, true), Field::new("error_message", DataType::Utf8, true), Field::new("result", DataType::Utf8, true)])
}

fn schema() -> SchemaRef {
    let map_entries = Field::new(
        "entries",
        DataType::Struct(Fields::from(vec![Field::new("keys", DataType::Utf8, false), Field::new("values", DataType::Utf8, true)])),
        false,
    );
    Arc::new(Schema::new(vec![
        Field::new("version", DataType::Utf8, false),
        Field::new("event_time", DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())), false),
        Field::new("event_date", DataType::Date32, false),
        Field::new("user_identity", DataType::Struct(user_identity_fields()), true),
        Field::new("service_name", DataType::Utf8, false),
        Field::new("action_name", DataType::Utf8, false),
        Field::new("request_id", DataType::Utf8, false),
        Field::new("request_params", DataType::Map(Arc::new(map_entries), false), true),
        Field::new("response", DataType::Struct(response_fields()), true),
        Field::new("audit_level", DataType::Utf8, false),
        Field::new("event_id", DataType::Utf8, false),
    ]))
}

/// The table for the caller: admins only; anyone else is told which privilege is missing,
/// and the denial is audited like any other.
pub(crate) async fn table(access: &Access) -> Result<Arc<dyn TableProvider>, SqlError> {
    let full_name = format!("system.{SCHEMA_NAME}.{TABLE_NAME}");
    let log = access.uc.authz().audit().clone();
    if !access.caller.is_admin() {
        log.decision(&access.caller, "sql.read", &full_name, AuditDecision::Deny, "missing SELECT: the audit log is for workspace admins").await;
        return Err(SqlError::from_core(kiln_core::Error::denied(format!("User does not have SELECT on Table '{full_name}'."))));
    }
    log.decision(&access.caller, "sql.read", &full_name, AuditDecision::Allow, "workspace admin").await;
    let events = AuditEvents { log, schema: schema() };
    let table = StreamingTable::try_new(events.schema.clone(), vec![Arc::new(events)]).map_err(SqlError::from_datafusion)?;
    Ok(Arc::new(table))
}

#[derive(Debug)]
struct AuditEvents {
    log: AuditLog,
    schema: SchemaRef,
}

impl PartitionStream for AuditEvents {
    fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    fn execute(&self, _context: Arc<TaskContext>) -> SendableRecordBatchStream {
        let (log, schema) = (self.log.clone(), self.schema.clone());
        let pages = futures::stream::try_unfold(0_i64, move |after_seq| {
            let (log, schema) = (log.clone(), schema.clone());
            async move {
                // The log writes in batches; listing waits for what is queued, so a request
                // made just before the statement is in its result.
                let events = log.list(&AuditFilter::default(), after_seq, PAGE).await.map_err(|e| DataFusionError::External(Box::new(e)))?;
                let Some(last) = events.last() else { return Ok(None) };
                let next = last.seq;
                Ok(Some((to_batch(&schema, &events)?, next)))
            }
        });
        Box::pin(RecordBatchStreamAdapter::new(self.schema.clone(), pages))
    }
}

/// Request lines (`GET /api/2.1/...`) belong to service `http`; authorization decisions
/// (`uc.tables.get`, `sql.read`) to the service their prefix names, as Databricks names it.
fn service_and_action(event: &AuditEvent) -> (&str, &str) {
    if event.action.contains(' ') {
        return ("http", &event.action);
    }
    match event.action.split_once('.') {
        Some(("uc", action)) => ("unityCatalog", action),
        Some(("sql", action)) => ("databrickssql", action),
        Some((service, action)) => (service, action),
        None => (&event.action, &event.action),
    }
}

fn to_batch(schema: &SchemaRef, events: &[AuditEvent]) -> Result<RecordBatch, DataFusionError> {
    let strings = |value: &dyn Fn(&AuditEvent) -> Option<String>| -> ArrayRef { Arc::new(events.iter().map(value).collect::<StringArray>()) };
    let (services, actions): (Vec<&str>, Vec<&str>) = events.iter().map(service_and_action).unzip();
    let identity = StructArray::try_new(
        user_identity_fields(),
        vec![strings(&|e| e.principal_name.clone()), strings(&|e| e.principal_id.map(|id| id.to_string()))],
        None,
    )?;
    let mut params = MapBuilder::new(None, StringBuilder::new(), StringBuilder::new());
    for event in events {
        for (key, value) in [("object", &event.object), ("decision", &event.decision.as_str().to_string()), ("reason", &event.reason)] {
            if !value.is_empty() {
                params.keys().append_value(key);
                params.values().append_value(value);
            }
        }
        params.append(true)?;
    }
    let response = StructArray::try_new(
        response_fields(),
        vec![
            Arc::new(events.iter().map(|e| e.status.map(i32::from)).collect::<Int32Array>()),
            strings(&|e| (e.decision == AuditDecision::Deny).then(|| e.reason.clone())),
            strings(&|_| None),
        ],
        None,
    )?;
    let columns: Vec<ArrayRef> = vec![
        strings(&|_| Some("2.0".to_string())),
        Arc::new(events.iter().map(|e| Some(e.time_ms * 1000)).collect::<TimestampMicrosecondArray>().with_timezone("UTC")),
        Arc::new(events.iter().map(|e| Some(e.time_ms.div_euclid(86_400_000) as i32)).collect::<Date32Array>()),
        Arc::new(identity),
        Arc::new(StringArray::from(services)),
        Arc::new(StringArray::from(actions)),
        strings(&|e| Some(e.request_id.clone())),
        Arc::new(params.finish()),
        Arc::new(response),
        strings(&|_| Some("WORKSPACE_LEVEL".to_string())),
        strings(&|e| Some(e.seq.to_string())),
    ];
    Ok(RecordBatch::try_new(schema.clone(), columns)?)
}
