//! CREATE VIEW. A view is a Unity Catalog table of type VIEW holding its query's text; the
//! governed catalog plans that text, as the view's owner, whenever a statement reads it.

use std::collections::{BTreeMap, HashSet};

use datafusion::arrow::datatypes::{Field, Schema};
use datafusion::sql::sqlparser::ast::Statement;
use kiln_core::uc::tables::{NewTable, TableSpec, VIEW};
use kiln_store::SecurableKind;

use super::ddl::column_infos;
use super::{Run, StatementOutput, output_names, rename_outputs};
use crate::error::SqlError;
use crate::parse::CreateView;

/// Where a view's unqualified names resolve: the catalog and schema current when it was
/// created, kept in its properties as Databricks keeps them.
pub(crate) const VIEW_CATALOG_PROPERTY: &str = "view.catalogAndNamespace.part.0";
pub(crate) const VIEW_SCHEMA_PROPERTY: &str = "view.catalogAndNamespace.part.1";

/// `CREATE [OR REPLACE] VIEW`: CREATE TABLE on the schema, and the creator must be able to
/// read everything the query reads (it is planned as the creator first). Replacing a view
/// keeps its grants; replacing a table with a view is refused.
pub(super) async fn create_view(run: &Run<'_>, view: CreateView) -> Result<StatementOutput, SqlError> {
    let parts = run.qualify(&view.name, 3)?;
    let full_name = parts.join(".");
    let uc = run.uc();
    let schema_path = uc.resolve(run.caller, SecurableKind::Schema, "name", &parts[..2].join(".")).await?;
    let existing = uc.store().find_securable(Some(&schema_path.leaf().id), SecurableKind::Table, &parts[2]).await.map_err(kiln_core::Error::from)?;
    if existing.is_some() && view.if_not_exists {
        return Ok(StatementOutput::empty("CREATE"));
    }

    let statement = Statement::Query(view.query.clone());
    let names = output_names(&statement);
    let mut state = run.session(HashSet::new())?;
    let plan = rename_outputs(run.plan(&mut state, statement).await?, &names)?;
    let planned = plan.schema().as_arrow().clone();
    let schema = match view.columns.is_empty() {
        true => planned,
        false if view.columns.len() != planned.fields().len() => {
            return Err(SqlError::condition(
                "CREATE_VIEW_COLUMN_ARITY_MISMATCH",
                format!("{full_name} names {} columns but its query has {}.", view.columns.len(), planned.fields().len()),
                "21S01",
            ));
        }
        false => Schema::new(planned.fields().iter().zip(&view.columns).map(|(field, (name, _))| Field::new(name, field.data_type().clone(), field.is_nullable())).collect::<Vec<_>>()),
    };
    let comments: BTreeMap<&str, &str> = view.columns.iter().filter_map(|(name, comment)| Some((name.as_str(), comment.as_deref()?))).collect();
    let spec = TableSpec {
        table_type: VIEW.to_string(),
        data_source_format: None,
        columns: column_infos(&schema, &comments, &[]),
        view_definition: Some(view.query.to_string()),
        table_constraints: Vec::new(),
    };
    let mut properties: kiln_api::uc::Properties = view.properties.iter().cloned().collect();
    properties.insert("view.catalogAndNamespace.numParts".to_string(), "2".to_string());
    properties.insert(VIEW_CATALOG_PROPERTY.to_string(), run.context.catalog.clone());
    properties.insert(VIEW_SCHEMA_PROPERTY.to_string(), run.context.schema.clone());

    let Some(existing) = existing else {
        let new_view = NewTable { name: parts[2].clone(), spec, comment: view.comment, properties };
        uc.create_table(run.caller, &schema_path, new_view).await?;
        return Ok(StatementOutput::empty("CREATE"));
    };
    if !view.or_replace {
        return Err(SqlError::from_core(kiln_core::uc::already_exists(SecurableKind::Table, &full_name)));
    }
    if !TableSpec::of(&existing).is_view() {
        return Err(SqlError::condition("EXPECT_VIEW_NOT_TABLE.NO_ALTERNATIVE", format!("{full_name} is a table: DROP TABLE it first to create a view of that name."), "42809"));
    }
    let spec = serde_json::to_value(&spec).map_err(|e| SqlError::internal(e.to_string()))?;
    let properties = serde_json::to_value(&properties).unwrap_or_default();
    uc.redefine(run.caller, "sql.create_or_replace_view", &schema_path, existing, spec, view.comment, Some(properties)).await?;
    Ok(StatementOutput::empty("CREATE"))
}
