//! TEMPORARY: replays the conformance probe cases against the core checks. Not to be kept.

use serde_json::{Map, Value, json};

use super::*;
use crate::error::Error;

fn typed<T: serde::de::DeserializeOwned>(body: &Value) -> Result<T> {
    serde_json::from_value(body.clone()).map_err(|e| Error::invalid(format!("(serde) {e}")))
}

fn acl_levels(level: &str) -> bool {
    ["CAN_VIEW", "CAN_MANAGE_RUN", "CAN_MANAGE", "IS_OWNER"].contains(&level)
}

fn run(route: &str, body: &Value) -> Result<()> {
    let (method, path) = route.split_once(' ').unwrap();
    let tail = path.rsplit('/').next().unwrap();
    if path.contains("/jobs/") {
        match tail {
            "create" => {
                let mut body = body.clone();
                let acl = body.as_object_mut().and_then(|b| b.remove("access_control_list"));
                crate::jobs::settings::validate_job(&body)?;
                if let Some(acl) = acl {
                    check_at(&acl, &jobs::ACCESS_CONTROL_LIST, "access_control_list")?;
                }
            }
            "reset" => {
                let request: kiln_api::jobs::ResetJobRequest = typed(body)?;
                check_at(&request.new_settings, &ANY_OBJECT, "new_settings")?;
                crate::jobs::settings::validate_job(&request.new_settings)?;
            }
            "update" => {
                let request: kiln_api::jobs::UpdateJobRequest = typed(body)?;
                if !request.new_settings.is_null() {
                    check_at(&request.new_settings, &ANY_OBJECT, "new_settings")?;
                }
                let mut settings = json!({"name": "j", "tasks": [{"task_key": "a", "condition_task": {"op": "EQUAL_TO", "left": "1", "right": "1"}}]}).as_object().cloned().unwrap();
                for (key, value) in request.new_settings.as_object().into_iter().flatten() {
                    match (key.as_str(), settings.get_mut(key)) {
                        ("tasks", Some(Value::Array(current))) => {
                            for change in value.as_array().into_iter().flatten() {
                                let name = change.get("task_key");
                                match current.iter_mut().find(|item| item.get("task_key") == name) {
                                    Some(existing) => *existing = change.clone(),
                                    None => current.push(change.clone()),
                                }
                            }
                        }
                        _ => {
                            settings.insert(key.clone(), value.clone());
                        }
                    }
                }
                crate::jobs::settings::validate_job(&Value::Object(settings))?;
            }
            "run-now" => check(body, &jobs::RUN_NOW)?,
            "submit" => {
                let mut body = body.clone();
                let acl = body.as_object_mut().and_then(|b| b.remove("access_control_list"));
                crate::jobs::settings::validate_submit(&body)?;
                if let Some(acl) = acl {
                    check_at(&acl, &jobs::ACCESS_CONTROL_LIST, "access_control_list")?;
                }
            }
            _ => return Err(Error::invalid("SKIP")),
        }
        return Ok(());
    }
    if path.contains("/clusters/") {
        match tail {
            "create" => {
                crate::clusters::spec::validate(body)?;
            }
            "edit" => {
                body.get("cluster_id").and_then(Value::as_str).ok_or_else(|| Error::invalid("cluster_id is required"))?;
                crate::clusters::spec::validate(body)?;
            }
            _ => return Err(Error::invalid("SKIP")),
        }
        return Ok(());
    }
    if path.starts_with("/api/2.0/sql/warehouses") {
        let spec: kiln_api::sql::WarehouseSpec = typed(body)?;
        check(&serde_json::to_value(&spec).unwrap(), &sql::WAREHOUSE)?;
        if spec.name.as_deref().is_some_and(|n| n.trim().is_empty()) || (method == "POST" && path.ends_with("warehouses") && spec.name.is_none()) {
            return Err(Error::invalid("name must not be blank"));
        }
        if let Some(size) = &spec.cluster_size
            && !["2X-Small", "X-Small", "Small", "Medium", "Large", "X-Large", "2X-Large", "3X-Large", "4X-Large", "5X-Large"].iter().any(|s| s.eq_ignore_ascii_case(size))
        {
            return Err(Error::invalid(format!("cluster_size '{size}' is not one of")));
        }
        if let Some(a @ 1..10) = spec.auto_stop_mins {
            return Err(Error::invalid(format!("auto_stop_mins must be 0 (never) or at least 10, got {a}")));
        }
        let min = spec.min_num_clusters.unwrap_or(1);
        let max = spec.max_num_clusters.unwrap_or(min.max(1));
        if max < min {
            return Err(Error::invalid("max_num_clusters must be at least min_num_clusters"));
        }
        return Ok(());
    }
    if path.starts_with("/api/2.0/sql/queries") {
        #[derive(serde::Deserialize)]
        #[allow(dead_code)]
        struct QueryBody {
            query: Option<Value>,
            #[serde(default)]
            update_mask: String,
            auto_resolve_display_name: Option<bool>,
        }
        const FIELDS: &[&str] = &["display_name", "query_text", "warehouse_id", "catalog", "schema", "description", "tags", "parameters", "parent_path", "apply_auto_limit", "run_as_mode"];
        let request: QueryBody = typed(body)?;
        let spec: Map<String, Value> = if method == "POST" {
            let query = request.query.ok_or_else(|| Error::invalid("query is required"))?;
            let given = query.as_object().ok_or_else(|| Error::invalid("query must be an object"))?;
            FIELDS.iter().filter_map(|key| given.get(*key).map(|v| (key.to_string(), v.clone()))).collect()
        } else {
            let given = request.query.unwrap_or(json!({})).as_object().cloned().unwrap_or_default();
            let mask = request.update_mask;
            let fields: Vec<String> = if mask.trim() == "*" { given.keys().cloned().collect() } else { mask.split(',').map(|f| f.trim().to_string()).filter(|f| !f.is_empty()).collect() };
            if fields.is_empty() {
                return Err(Error::invalid("update_mask must name the fields to change"));
            }
            let mut spec = json!({"display_name": "q", "query_text": "SELECT 1"}).as_object().cloned().unwrap();
            for field in fields {
                if !FIELDS.contains(&field.as_str()) {
                    return Err(Error::invalid(format!("update_mask: '{field}' is not a field of a query")));
                }
                match given.get(&field) {
                    Some(value) => spec.insert(field, value.clone()),
                    None => spec.remove(&field),
                };
            }
            spec
        };
        let query = Value::Object(spec);
        check_at(&query, &sql::QUERY, "query")?;
        for key in ["display_name", "query_text"] {
            if query[key].as_str().is_some_and(|v| v.trim().is_empty()) {
                return Err(Error::invalid(format!("query.{key} is required")));
            }
        }
        return Ok(());
    }
    if path.starts_with("/api/2.0/notification-destinations") {
        #[derive(serde::Deserialize)]
        struct DestinationRequest {
            display_name: Option<String>,
            config: Option<Value>,
        }
        let request: DestinationRequest = typed(body)?;
        if method == "POST" && request.config.is_none() {
            return Err(Error::invalid("config is required"));
        }
        check(&json!({"display_name": request.display_name, "config": request.config}), &notifications::DESTINATION)?;
        if method == "POST" && request.display_name.as_deref().unwrap_or("").trim().is_empty() {
            return Err(Error::invalid("display_name is required"));
        }
        if let Some(config) = &request.config {
            let webhook = config.get("generic_webhook").filter(|v| !v.is_null()).ok_or_else(|| Error::invalid("config.generic_webhook is required"))?;
            let url = webhook.get("url").and_then(Value::as_str).unwrap_or_default();
            let parsed = url::Url::parse(url).map_err(|e| Error::invalid(format!("config.generic_webhook.url is not a URL: {e}")))?;
            if !matches!(parsed.scheme(), "http" | "https") {
                return Err(Error::invalid("config.generic_webhook.url must be http or https"));
            }
        }
        return Ok(());
    }
    if path.starts_with("/api/2.0/permissions") {
        let request: kiln_api::permissions::SetPermissionsRequest = typed(body)?;
        let list: Vec<Value> = request
            .access_control_list
            .iter()
            .map(|r| json!({"user_name": r.user_name, "group_name": r.group_name, "service_principal_name": r.service_principal_name, "permission_level": r.permission_level}))
            .collect();
        check_at(&Value::Array(list), &permissions::ACCESS_CONTROL_LIST, "access_control_list")?;
        for (index, r) in request.access_control_list.iter().enumerate() {
            let n = [&r.user_name, &r.group_name, &r.service_principal_name].iter().filter(|x| x.is_some()).count();
            if n != 1 {
                return Err(Error::invalid(format!("access_control_list[{index}] must set exactly one")));
            }
            let level = r.permission_level.as_deref().ok_or_else(|| Error::invalid(format!("access_control_list[{index}].permission_level is required")))?;
            if !acl_levels(level) {
                return Err(Error::invalid(format!("access_control_list[{index}].permission_level {level} is not valid")));
            }
        }
        return Ok(());
    }
    if path.contains("/unity-catalog/") {
        let collection = path.split('/').nth(4).unwrap();
        let item = path.split('/').count() > 5;
        if item {
            if collection == "functions" {
                #[derive(serde::Deserialize)]
                #[allow(dead_code)]
                struct Owner {
                    owner: Option<String>,
                }
                let request: Owner = typed(body)?;
                check(&json!({"owner": request.owner}), &uc::UPDATE)?;
                return Ok(());
            }
            let update: kiln_api::uc::UpdateSecurable = typed(body)?;
            check(&json!({"new_name": update.new_name, "owner": update.owner, "comment": update.comment, "properties": update.properties}), &uc::UPDATE)?;
            if let Some(name) = &update.new_name {
                crate::uc::names::normalize("new_name", name)?;
            }
            return Ok(());
        }
        match collection {
            "catalogs" => {
                let r: kiln_api::uc::CreateCatalog = typed(body)?;
                check(&json!({"name": r.name, "comment": r.comment, "properties": r.properties, "storage_root": r.storage_root}), &uc::SECURABLE)?;
                crate::uc::names::normalize("name", &r.name)?;
                if r.storage_root.as_deref().is_some_and(|s| !s.is_empty()) {
                    return Err(Error::invalid("storage_root not supported"));
                }
            }
            "schemas" => {
                let r: kiln_api::uc::CreateSchema = typed(body)?;
                check(&json!({"name": r.name, "catalog_name": r.catalog_name, "comment": r.comment, "properties": r.properties, "storage_root": r.storage_root}), &uc::SECURABLE)?;
                crate::uc::names::normalize("name", &r.name)?;
                if r.storage_root.as_deref().is_some_and(|s| !s.is_empty()) {
                    return Err(Error::invalid("storage_root not supported"));
                }
                crate::uc::names::normalize("catalog_name", &r.catalog_name)?;
            }
            "volumes" => {
                let r: kiln_api::uc::CreateVolume = typed(body)?;
                check(
                    &json!({"name": r.name, "catalog_name": r.catalog_name, "schema_name": r.schema_name, "volume_type": r.volume_type, "comment": r.comment, "storage_location": r.storage_location}),
                    &uc::SECURABLE,
                )?;
                crate::uc::names::normalize("name", &r.name)?;
                if !r.volume_type.eq_ignore_ascii_case("MANAGED") {
                    return Err(Error::invalid("volume_type not supported"));
                }
                if r.storage_location.as_deref().is_some_and(|s| !s.is_empty()) {
                    return Err(Error::invalid("storage_location must not be set"));
                }
                crate::uc::names::normalize("catalog_name", &r.catalog_name)?;
                crate::uc::names::normalize("schema_name", &r.schema_name)?;
            }
            "functions" => {
                let r: kiln_api::uc::CreateFunctionRequest = typed(body)?;
                let d = r.function_info;
                check_at(&serde_json::to_value(&d).unwrap(), &uc::FUNCTION, "function_info")?;
                crate::uc::names::normalize("function_info.name", &d.name)?;
                if !d.routine_body.eq_ignore_ascii_case("SQL") {
                    return Err(Error::invalid("function_info.routine_body"));
                }
                if d.routine_definition.trim().is_empty() {
                    return Err(Error::invalid("function_info.routine_definition"));
                }
                if d.data_type.eq_ignore_ascii_case("TABLE_TYPE") {
                    return Err(Error::invalid("function_info.data_type TABLE_TYPE"));
                }
                let mut seen = std::collections::HashSet::new();
                for (index, p) in d.input_params.parameters.iter().enumerate() {
                    if !seen.insert(p.name.to_lowercase()) {
                        return Err(Error::invalid(format!("function_info.input_params.parameters[{index}].name is used twice")));
                    }
                }
                crate::uc::names::normalize("function_info.catalog_name", &d.catalog_name)?;
                crate::uc::names::normalize("function_info.schema_name", &d.schema_name)?;
            }
            _ => return Err(Error::invalid("SKIP")),
        }
        return Ok(());
    }
    if path.contains("/scim/v2/") {
        if method == "PATCH" {
            return Err(Error::invalid("SKIP"));
        }
        let input: kiln_api::scim::ScimResourceInput = typed(body)?;
        let (attr, name) = if path.contains("/Users") {
            ("userName", input.user_name.clone().ok_or_else(|| Error::invalid("userName is required"))?)
        } else if path.contains("/Groups") {
            ("displayName", input.display_name.clone().ok_or_else(|| Error::invalid("displayName is required"))?)
        } else {
            ("applicationId", input.application_id.clone().unwrap_or_else(|| "generated".to_string()))
        };
        let name = name.trim().to_string();
        let values = |items: &Option<Vec<kiln_api::scim::ComplexValue>>| items.iter().flatten().filter_map(|i| i.value.clone()).map(|v| json!({"value": v})).collect::<Vec<_>>();
        let mut resource = json!({
            "displayName": input.display_name.clone().unwrap_or_else(|| name.clone()),
            "externalId": input.external_id,
            "entitlements": values(&input.entitlements),
            "roles": values(&input.roles),
            "emails": input.emails,
            "name": input.name,
        });
        resource[attr] = json!(name);
        check(&resource, &scim::PRINCIPAL)?;
        for item in input.members.iter().flatten().chain(input.groups.iter().flatten()) {
            let value = item.value.as_deref().unwrap_or_default();
            value.trim().parse::<i64>().map_err(|_| Error::invalid(format!("member value '{value}' is not a principal id")))?;
        }
        return Ok(());
    }
    Err(Error::invalid("SKIP"))
}

#[test]
#[ignore]
fn replay_probe_cases() {
    let cases: Vec<Value> = serde_json::from_str(&std::fs::read_to_string("/tmp/shapes/harness/cases.json").unwrap()).unwrap();
    let (mut ran, mut bad) = (0, 0);
    for case in &cases {
        let route = case["route"].as_str().unwrap();
        let body = &case["body"];
        let outcome = run(route, body);
        if matches!(&outcome, Err(e) if e.message == "SKIP") {
            continue;
        }
        ran += 1;
        let expect = case["expect"].as_str().unwrap();
        let problem = match (&outcome, expect) {
            (Ok(()), "reject") => Some("accepted".to_string()),
            (Err(e), "accept") => Some(format!("refused: {}", e.message)),
            (Err(e), "reject") => match case["names"].as_str() {
                Some(name) if !e.message.contains(name) && !e.message.starts_with("(serde)") => Some(format!("does not name {name}: {}", e.message)),
                _ => None,
            },
            _ => None,
        };
        if let Some(problem) = problem {
            bad += 1;
            let shown: String = problem.chars().take(200).collect();
            println!("MISMATCH {route} | {} | {} | {shown}", case["field"].as_str().unwrap(), case["mutation"].as_str().unwrap());
        }
    }
    println!("ran {ran}, mismatches {bad}");
}
