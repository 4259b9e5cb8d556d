//! Saved Databricks SQL queries (`/api/2.0/sql/queries`): query text with its warehouse,
//! catalog and schema, which a job's `sql_task.query` runs. A query is its owner's; admins
//! reach all; others are told it does not exist.

use std::sync::Arc;

use kiln_store::{SavedQueryRecord, Store};
use serde_json::{Map, Value, json};

use crate::clock::{now_ms, rfc3339};
use crate::error::{Error, Result};
use crate::principal::Caller;
use crate::shapes;

/// Fields a query keeps as given.
const FIELDS: &[&str] = &["display_name", "query_text", "warehouse_id", "catalog", "schema", "description", "tags", "parameters", "parent_path", "apply_auto_limit", "run_as_mode"];

#[derive(Debug, Clone)]
pub struct SavedQueries {
    store: Arc<dyn Store>,
}

fn missing(id: &str) -> Error {
    Error::not_found(format!("Query {id} does not exist."))
}

/// Checks a query as it would be stored: its shape ([`shapes::sql::QUERY`]), then that its
/// name and text are more than blanks.
fn checked(fields: &Map<String, Value>) -> Result<()> {
    let query = Value::Object(fields.clone());
    shapes::check_at(&query, &shapes::sql::QUERY, "query")?;
    for key in ["display_name", "query_text"] {
        if query[key].as_str().is_some_and(|v| v.trim().is_empty()) {
            return Err(Error::invalid(format!("query.{key} is required")));
        }
    }
    Ok(())
}

/// A query's fields without what no longer fits their shape: rows stored before a check
/// existed read leniently (and are reported) instead of failing every reader.
fn readable_spec(record: &SavedQueryRecord) -> Value {
    let mut spec = record.spec.clone();
    let removed = shapes::prune(&mut spec, &shapes::sql::QUERY);
    if !removed.is_empty() {
        tracing::warn!(query_id = %record.id, problems = ?removed, "a stored query has fields that are no longer valid; reading it without them");
    }
    spec
}

impl SavedQueries {
    pub fn new(store: Arc<dyn Store>) -> SavedQueries {
        SavedQueries { store }
    }

    fn render(record: &SavedQueryRecord) -> Value {
        let mut query = readable_spec(record).as_object().cloned().unwrap_or_default();
        query.insert("id".to_string(), json!(record.id));
        query.insert("owner_user_name".to_string(), json!(record.owner_name));
        query.insert("last_modifier_user_name".to_string(), json!(record.owner_name));
        query.insert("create_time".to_string(), json!(rfc3339(record.created_ms)));
        query.insert("update_time".to_string(), json!(rfc3339(record.updated_ms)));
        query.insert("lifecycle_state".to_string(), json!("ACTIVE"));
        query.entry("run_as_mode").or_insert(json!("OWNER"));
        Value::Object(query)
    }

    pub async fn create(&self, caller: &Caller, query: &Value) -> Result<Value> {
        let given = query.as_object().ok_or_else(|| Error::invalid("query must be an object"))?;
        let spec: Map<String, Value> = FIELDS.iter().filter_map(|key| given.get(*key).map(|v| (key.to_string(), v.clone()))).collect();
        checked(&spec)?;
        let now = now_ms();
        let record = SavedQueryRecord { id: uuid::Uuid::new_v4().to_string(), owner_name: caller.name().to_string(), spec: Value::Object(spec), created_ms: now, updated_ms: now };
        self.store.insert_saved_query(&record).await?;
        Ok(SavedQueries::render(&record))
    }

    /// The query, if the caller owns it or is an admin.
    pub async fn record(&self, caller: &Caller, id: &str) -> Result<SavedQueryRecord> {
        let record = self.store.get_saved_query(id).await?.ok_or_else(|| missing(id))?;
        if record.owner_name != caller.name() && !caller.is_admin() {
            return Err(missing(id));
        }
        Ok(record)
    }

    pub async fn get(&self, caller: &Caller, id: &str) -> Result<Value> {
        Ok(SavedQueries::render(&self.record(caller, id).await?))
    }

    pub async fn list(&self, caller: &Caller) -> Result<Vec<Value>> {
        let all = self.store.list_saved_queries().await?;
        Ok(all.iter().filter(|q| caller.is_admin() || q.owner_name == caller.name()).map(SavedQueries::render).collect())
    }

    /// Changes the fields `update_mask` names (comma-separated; `*` for all given).
    pub async fn update(&self, caller: &Caller, id: &str, update_mask: &str, query: &Value) -> Result<Value> {
        shapes::check_changes(query, &shapes::sql::QUERY, "query")?;
        let mut record = self.record(caller, id).await?;
        let given = query.as_object().cloned().unwrap_or_default();
        let fields: Vec<String> = if update_mask.trim() == "*" { given.keys().cloned().collect() } else { update_mask.split(',').map(|f| f.trim().to_string()).filter(|f| !f.is_empty()).collect() };
        if fields.is_empty() {
            return Err(Error::invalid("update_mask must name the fields to change"));
        }
        let mut spec = readable_spec(&record).as_object().cloned().unwrap_or_default();
        for field in fields {
            if !FIELDS.contains(&field.as_str()) {
                return Err(Error::invalid(format!("update_mask: '{field}' is not a field of a query")));
            }
            match given.get(&field) {
                Some(value) => spec.insert(field, value.clone()),
                None => spec.remove(&field),
            };
        }
        checked(&spec)?;
        record.spec = Value::Object(spec);
        record.updated_ms = now_ms();
        self.store.update_saved_query(&record).await?;
        Ok(SavedQueries::render(&record))
    }

    pub async fn delete(&self, caller: &Caller, id: &str) -> Result<()> {
        self.record(caller, id).await?;
        self.store.delete_saved_query(id).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use kiln_store::{PrincipalKind, PrincipalRecord};

    use super::*;
    use crate::principal::Principal;

    fn admin() -> Caller {
        let record = PrincipalRecord::new(1, PrincipalKind::User, "admin@example.com");
        let principal = Principal { record, direct_groups: Vec::new(), all_group_ids: Vec::new(), group_names: Vec::new(), entitlements: Vec::new(), is_admin: true };
        Caller { principal: Arc::new(principal), request_id: "test".to_string() }
    }

    async fn queries() -> (SavedQueries, Arc<dyn Store>) {
        let store: Arc<dyn Store> = Arc::new(kiln_store_sqlite::SqliteStore::open(":memory:").await.expect("store"));
        (SavedQueries::new(store.clone()), store)
    }

    #[tokio::test]
    async fn writes_are_checked_and_old_rows_read_leniently() {
        let (queries, store) = queries().await;
        let caller = admin();
        let error = queries.create(&caller, &json!({"display_name": "q", "query_text": "SELECT 1", "parameters": 7})).await.unwrap_err();
        assert_eq!(error.message, "query.parameters must be an array, got a number");
        let error = queries.create(&caller, &json!({"display_name": "  ", "query_text": "SELECT 1"})).await.unwrap_err();
        assert_eq!(error.message, "query.display_name is required");

        // A row an earlier version stored without these checks.
        let spec = json!({"display_name": "old", "query_text": "SELECT 2", "parameters": 7, "run_as_mode": "SOMETIMES", "tags": ["kept"]});
        let record = SavedQueryRecord { id: "old".to_string(), owner_name: caller.name().to_string(), spec, created_ms: 0, updated_ms: 0 };
        store.insert_saved_query(&record).await.expect("insert");
        let listed = queries.list(&caller).await.expect("one bad row does not fail the list");
        assert_eq!(listed.len(), 1);
        assert!(listed[0].get("parameters").is_none(), "{}", listed[0]);
        assert_eq!((listed[0]["run_as_mode"].clone(), listed[0]["tags"].clone()), (json!("OWNER"), json!(["kept"])));

        // An update starts from what reads as valid, so the row can be repaired.
        let updated = queries.update(&caller, "old", "description", &json!({"description": "fixed"})).await.expect("update");
        assert_eq!(updated["description"], "fixed");
        let error = queries.update(&caller, "old", "tags", &json!({"tags": "x"})).await.unwrap_err();
        assert_eq!(error.message, "query.tags must be an array, got a string");
    }
}
