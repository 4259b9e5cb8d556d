//! SCIM operations on users, service principals and groups. Anyone in the workspace may
//! read identities; only workspace admins may change them.

use std::collections::HashMap;
use std::sync::Arc;

use kiln_api::scim::{ComplexValue, PatchOperation, ScimListQuery, ScimResourceInput};
use kiln_store::{Membership, PrincipalKind, PrincipalRecord, Store};

use super::filter;
use super::render::render;
use crate::authn::PrincipalCache;
use crate::authz::Authz;
use crate::clock::now_ms;
use crate::error::{Error, Result};
use crate::ids::numeric_id;
use crate::principal::{Caller, USERS_GROUP};
use crate::shapes;

/// Largest `count` a SCIM list honours; the SDK asks for 10000.
const MAX_COUNT: usize = 10_000;

#[derive(Debug, Clone)]
pub struct ScimService {
    store: Arc<dyn Store>,
    authz: Authz,
    principals: PrincipalCache,
}

/// One page of a SCIM list, already rendered.
#[derive(Debug, Clone)]
pub struct ListPage {
    pub total_results: usize,
    pub start_index: usize,
    pub resources: Vec<serde_json::Value>,
}

fn resource_name(kind: PrincipalKind) -> &'static str {
    match kind {
        PrincipalKind::User => "User",
        PrincipalKind::ServicePrincipal => "ServicePrincipal",
        PrincipalKind::Group => "Group",
    }
}

fn parse_id(id: &str) -> Option<i64> {
    id.trim().parse().ok()
}

fn entitlement_values(items: &Option<Vec<ComplexValue>>) -> Vec<String> {
    items.iter().flatten().filter_map(|item| item.value.clone()).collect()
}

impl ScimService {
    pub fn new(store: Arc<dyn Store>, authz: Authz, principals: PrincipalCache) -> ScimService {
        ScimService { store, authz, principals }
    }

    pub async fn create(&self, caller: &Caller, kind: PrincipalKind, input: ScimResourceInput) -> Result<serde_json::Value> {
        // validations
        let record = record_from_input(kind, numeric_id(), &input, None)?;
        checked(&record)?;
        let members = self.member_ids(&input.members).await?;
        let groups = self.member_ids(&input.groups).await?;
        // authz
        let action = format!("scim.{}.create", resource_name(kind));
        self.authz.require_admin(caller, &action, &format!("{} {}", resource_name(kind), record.name)).await?;
        // business logic
        let _invalidate = self.principals.invalidate_when_done();
        self.store.create_principal(&record).await.map_err(|error| match error {
            kiln_store::StoreError::AlreadyExists(_) => Error::already_exists(format!("{} with name {} already exists", resource_name(kind), record.name)),
            other => Error::from(other),
        })?;
        if kind != PrincipalKind::Group
            && let Some(users) = self.store.find_principal(PrincipalKind::Group, USERS_GROUP).await? {
                self.store.add_group_members(users.id, &[record.id]).await?;
            }
        if !members.is_empty() {
            self.store.set_group_members(record.id, &members).await?;
        }
        for group_id in groups {
            self.store.add_group_members(group_id, &[record.id]).await?;
        }
        self.get(kind, &record.id.to_string()).await
    }

    /// One principal by SCIM id; 404 when it is missing or of another kind.
    pub async fn get(&self, kind: PrincipalKind, id: &str) -> Result<serde_json::Value> {
        let record = self.find(kind, id).await?;
        let memberships = self.store.all_memberships().await?;
        let names = self.display_names().await?;
        Ok(render_with(&record, &memberships, &names))
    }

    pub async fn list(&self, kind: PrincipalKind, query: &ScimListQuery) -> Result<ListPage> {
        let filter = match query.filter.as_deref().map(str::trim).filter(|f| !f.is_empty()) {
            Some(text) => Some(filter::parse(text).map_err(|e| Error::invalid(format!("invalid filter: {e}")))?),
            None => None,
        };
        let start_index = parse_positive("startIndex", query.start_index.as_deref())?.unwrap_or(1).max(1);
        let count = parse_positive("count", query.count.as_deref())?.unwrap_or(MAX_COUNT).min(MAX_COUNT);
        let memberships = self.store.all_memberships().await?;
        let names = self.display_names().await?;
        let mut matched: Vec<serde_json::Value> = self
            .store
            .list_principals(kind)
            .await?
            .iter()
            .map(|record| render_with(record, &memberships, &names))
            .filter(|resource| filter.as_ref().is_none_or(|f| f.matches(resource)))
            .collect();
        if let Some(sort_by) = query.sort_by.as_deref() {
            let key = |resource: &serde_json::Value| resource.get(sort_by).map(|v| v.to_string().to_lowercase()).unwrap_or_default();
            matched.sort_by_key(key);
            if query.sort_order.as_deref().is_some_and(|o| o.eq_ignore_ascii_case("descending")) {
                matched.reverse();
            }
        }
        let total_results = matched.len();
        let resources: Vec<serde_json::Value> = matched.into_iter().skip(start_index - 1).take(count).collect();
        Ok(ListPage { total_results, start_index, resources })
    }

    /// PUT: replaces every attribute the resource has.
    pub async fn replace(&self, caller: &Caller, kind: PrincipalKind, id: &str, input: ScimResourceInput) -> Result<serde_json::Value> {
        let existing = self.find(kind, id).await?;
        let record = record_from_input(kind, existing.id, &input, Some(&existing))?;
        checked(&record)?;
        let members = self.member_ids(&input.members).await?;
        let action = format!("scim.{}.replace", resource_name(kind));
        self.authz.require_admin(caller, &action, &format!("{} {}", resource_name(kind), existing.id)).await?;
        let _invalidate = self.principals.invalidate_when_done();
        self.store.update_principal(&record).await?;
        if kind == PrincipalKind::Group && input.members.is_some() {
            self.store.set_group_members(record.id, &members).await?;
        }
        self.get(kind, id).await
    }

    /// PATCH: applies SCIM operations in order, all or none.
    pub async fn patch(&self, caller: &Caller, kind: PrincipalKind, id: &str, operations: Vec<PatchOperation>) -> Result<serde_json::Value> {
        // validations
        let mut record = self.find(kind, id).await?;
        let mut membership = MembershipChanges::default();
        for operation in &operations {
            apply_operation(&mut record, &mut membership, operation)?;
        }
        checked(&record)?;
        for member_id in membership.add_members.iter().chain(&membership.add_to_groups) {
            if self.store.get_principal(*member_id).await?.is_none() {
                return Err(Error::not_found(format!("principal {member_id} does not exist")));
            }
        }
        // authz
        let action = format!("scim.{}.patch", resource_name(kind));
        self.authz.require_admin(caller, &action, &format!("{} {}", resource_name(kind), record.id)).await?;
        // business logic
        let _invalidate = self.principals.invalidate_when_done();
        self.store.update_principal(&record).await?;
        if let Some(members) = &membership.replace_members {
            self.store.set_group_members(record.id, members).await?;
        }
        self.store.add_group_members(record.id, &membership.add_members).await?;
        self.store.remove_group_members(record.id, &membership.remove_members).await?;
        for group_id in &membership.add_to_groups {
            self.store.add_group_members(*group_id, &[record.id]).await?;
        }
        for group_id in &membership.remove_from_groups {
            self.store.remove_group_members(*group_id, &[record.id]).await?;
        }
        self.get(kind, id).await
    }

    pub async fn delete(&self, caller: &Caller, kind: PrincipalKind, id: &str) -> Result<()> {
        let existing = self.find(kind, id).await?;
        let action = format!("scim.{}.delete", resource_name(kind));
        self.authz.require_admin(caller, &action, &format!("{} {}", resource_name(kind), existing.id)).await?;
        if kind == PrincipalKind::Group && matches!(existing.name.as_str(), crate::principal::ADMINS_GROUP | USERS_GROUP) {
            return Err(Error::invalid(format!("the built-in group {} cannot be deleted", existing.name)));
        }
        let _invalidate = self.principals.invalidate_when_done();
        self.store.delete_principal(existing.id).await?;
        Ok(())
    }

    async fn find(&self, kind: PrincipalKind, id: &str) -> Result<PrincipalRecord> {
        let not_found = || Error::not_found(format!("{} {id} does not exist", resource_name(kind)));
        let principal_id = parse_id(id).ok_or_else(not_found)?;
        match self.store.get_principal(principal_id).await? {
            Some(record) if record.kind == kind => Ok(record),
            _ => Err(not_found()),
        }
    }

    /// Resolves `[{value: id}]` references to existing principal ids.
    async fn member_ids(&self, items: &Option<Vec<ComplexValue>>) -> Result<Vec<i64>> {
        let mut ids = Vec::new();
        for item in items.iter().flatten() {
            let value = item.value.as_deref().unwrap_or_default();
            let id = parse_id(value).ok_or_else(|| Error::invalid(format!("member value '{value}' is not a principal id")))?;
            if self.store.get_principal(id).await?.is_none() {
                return Err(Error::not_found(format!("principal {id} does not exist")));
            }
            ids.push(id);
        }
        Ok(ids)
    }

    async fn display_names(&self) -> Result<HashMap<i64, String>> {
        let mut names = HashMap::new();
        for kind in [PrincipalKind::User, PrincipalKind::ServicePrincipal, PrincipalKind::Group] {
            for record in self.store.list_principals(kind).await? {
                names.insert(record.id, record.display_name);
            }
        }
        Ok(names)
    }
}

fn render_with(record: &PrincipalRecord, memberships: &[Membership], names: &HashMap<i64, String>) -> serde_json::Value {
    let named = |id: i64| (id, names.get(&id).cloned().unwrap_or_default());
    let groups: Vec<(i64, String)> = memberships.iter().filter(|m| m.member_id == record.id).map(|m| named(m.group_id)).collect();
    let members: Vec<(i64, String)> = memberships.iter().filter(|m| m.group_id == record.id).map(|m| named(m.member_id)).collect();
    render(record, &groups, &members)
}

fn parse_positive(field: &str, value: Option<&str>) -> Result<Option<usize>> {
    match value {
        None => Ok(None),
        Some(text) => text.trim().parse::<usize>().map(Some).map_err(|_| Error::invalid(format!("{field} must be a non-negative integer, got '{text}'"))),
    }
}

/// Builds the stored record from a create or replace body, checking what each kind requires.
fn record_from_input(kind: PrincipalKind, id: i64, input: &ScimResourceInput, existing: Option<&PrincipalRecord>) -> Result<PrincipalRecord> {
    let name = match kind {
        PrincipalKind::User => input.user_name.clone().ok_or_else(|| Error::invalid("userName is required"))?,
        PrincipalKind::ServicePrincipal => input
            .application_id
            .clone()
            .or_else(|| existing.map(|e| e.name.clone()))
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
        PrincipalKind::Group => input.display_name.clone().ok_or_else(|| Error::invalid("displayName is required"))?,
    };
    let name = name.trim().to_string();
    let mut attributes = serde_json::Map::new();
    if kind == PrincipalKind::User {
        let emails = match &input.emails {
            Some(emails) => emails.clone(),
            None if name.contains('@') => vec![ComplexValue { value: Some(name.clone()), primary: Some(true), kind: Some("work".to_string()), ..ComplexValue::default() }],
            None => Vec::new(),
        };
        attributes.insert("emails".to_string(), serde_json::to_value(emails).unwrap_or_default());
        if let Some(scim_name) = &input.name {
            attributes.insert("name".to_string(), serde_json::to_value(scim_name).unwrap_or_default());
        }
    }
    Ok(PrincipalRecord {
        id,
        kind,
        display_name: input.display_name.clone().unwrap_or_else(|| name.clone()),
        name,
        external_id: input.external_id.clone(),
        active: input.active.unwrap_or(true),
        entitlements: entitlement_values(&input.entitlements),
        roles: entitlement_values(&input.roles),
        attributes: serde_json::Value::Object(attributes),
        created_at_ms: existing.map_or_else(now_ms, |e| e.created_at_ms),
    })
}

/// Checks a principal as it is about to be stored, in SCIM's attribute names, against
/// [`shapes::scim::PRINCIPAL`]: what a create, replace or patch made of it.
fn checked(record: &PrincipalRecord) -> Result<()> {
    let name_attribute = match record.kind {
        PrincipalKind::User => "userName",
        PrincipalKind::ServicePrincipal => "applicationId",
        PrincipalKind::Group => "displayName",
    };
    let values = |items: &[String]| items.iter().map(|value| serde_json::json!({"value": value})).collect::<Vec<_>>();
    let mut resource = serde_json::json!({
        "displayName": record.display_name,
        "externalId": record.external_id,
        "entitlements": values(&record.entitlements),
        "roles": values(&record.roles),
        "emails": record.attributes.get("emails"),
        "name": record.attributes.get("name"),
    });
    resource[name_attribute] = serde_json::json!(record.name);
    shapes::check(&resource, &shapes::scim::PRINCIPAL)
}

/// Membership edits a PATCH asks for, applied after the record update.
#[derive(Debug, Default)]
struct MembershipChanges {
    replace_members: Option<Vec<i64>>,
    add_members: Vec<i64>,
    remove_members: Vec<i64>,
    add_to_groups: Vec<i64>,
    remove_from_groups: Vec<i64>,
}

/// `[{"value": "123"}, ...]` (or a single object) as the list of its `value`s.
fn patch_values(value: Option<&serde_json::Value>) -> Result<Vec<String>> {
    let items: Vec<&serde_json::Value> = match value {
        None => Vec::new(),
        Some(serde_json::Value::Array(items)) => items.iter().collect(),
        Some(other) => vec![other],
    };
    items
        .into_iter()
        .map(|item| match item.get("value").unwrap_or(item) {
            serde_json::Value::String(text) => Ok(text.clone()),
            serde_json::Value::Number(number) => Ok(number.to_string()),
            other => Err(Error::invalid(format!("expected a value in PATCH operation, got {other}"))),
        })
        .collect()
}

fn patch_ids(values: &[String]) -> Result<Vec<i64>> {
    values.iter().map(|v| parse_id(v).ok_or_else(|| Error::invalid(format!("'{v}' is not a principal id")))).collect()
}

fn patch_string(path: &str, value: Option<&serde_json::Value>) -> Result<String> {
    match value {
        Some(serde_json::Value::String(text)) => Ok(text.clone()),
        _ => Err(Error::invalid(format!("PATCH {path} needs a string value"))),
    }
}

/// Splits `members[value eq "1"]` into `members` and the values the filter selects among
/// `candidates`.
fn selected_by_filter(path: &str, candidates: &[String]) -> Result<(String, Option<Vec<String>>)> {
    let Some((attribute, rest)) = path.split_once('[') else { return Ok((path.to_ascii_lowercase(), None)) };
    let inner = rest.strip_suffix(']').ok_or_else(|| Error::invalid(format!("invalid PATCH path '{path}'")))?;
    let filter = filter::parse(inner).map_err(|e| Error::invalid(format!("invalid PATCH path '{path}': {e}")))?;
    let selected = candidates.iter().filter(|c| filter.matches(&serde_json::json!({"value": c}))).cloned().collect();
    Ok((attribute.to_ascii_lowercase(), Some(selected)))
}

fn apply_list(list: &mut Vec<String>, op: &str, values: Vec<String>) {
    match op {
        "replace" => *list = values,
        "remove" => list.retain(|item| !values.contains(item)),
        _ => {
            for value in values {
                if !list.contains(&value) {
                    list.push(value);
                }
            }
        }
    }
}

fn apply_operation(record: &mut PrincipalRecord, membership: &mut MembershipChanges, operation: &PatchOperation) -> Result<()> {
    let op = operation.op.to_ascii_lowercase();
    if !matches!(op.as_str(), "add" | "remove" | "replace") {
        return Err(Error::invalid(format!("PATCH op must be add, remove or replace, got '{}'", operation.op)));
    }
    // RFC 7644 §3.5.2: add and replace carry the value they set.
    if op != "remove" && operation.value.as_ref().is_none_or(serde_json::Value::is_null) {
        return Err(Error::invalid(format!("Operations: {op} needs a value")));
    }
    let Some(path) = operation.path.as_deref().map(str::trim).filter(|p| !p.is_empty()) else {
        // No path: the value is an object of attribute → value.
        let Some(serde_json::Value::Object(fields)) = &operation.value else {
            return Err(Error::invalid("PATCH operation without path needs an object value"));
        };
        for (key, value) in fields {
            let nested = PatchOperation { op: op.clone(), path: Some(key.clone()), value: Some(value.clone()) };
            apply_operation(record, membership, &nested)?;
        }
        return Ok(());
    };
    let existing_values: Vec<String> = record.entitlements.iter().chain(&record.roles).cloned().collect();
    let (attribute, selected) = selected_by_filter(path, &existing_values)?;
    // Only list-valued attributes read this; `active` and friends carry scalars.
    let values = || match (&selected, op.as_str()) {
        (Some(selected), "remove") => Ok(selected.clone()),
        _ => patch_values(operation.value.as_ref()),
    };
    match attribute.as_str() {
        "active" => {
            record.active = match &operation.value {
                Some(serde_json::Value::Bool(active)) => *active,
                Some(serde_json::Value::String(text)) if text.eq_ignore_ascii_case("true") => true,
                Some(serde_json::Value::String(text)) if text.eq_ignore_ascii_case("false") => false,
                _ => return Err(Error::invalid("PATCH active needs a boolean value")),
            }
        }
        "displayname" => {
            record.display_name = patch_string(path, operation.value.as_ref())?;
            if record.kind == PrincipalKind::Group {
                record.name = record.display_name.clone();
            }
        }
        "username" if record.kind == PrincipalKind::User => record.name = patch_string(path, operation.value.as_ref())?,
        "externalid" => record.external_id = Some(patch_string(path, operation.value.as_ref())?),
        "entitlements" => apply_list(&mut record.entitlements, &op, values()?),
        "roles" => apply_list(&mut record.roles, &op, values()?),
        "members" if record.kind == PrincipalKind::Group => {
            let ids = match (&selected, op.as_str()) {
                // `members[value eq "1"]` selects among ids the filter names, not stored values.
                (Some(_), _) => patch_ids(&filter_member_ids(path)?)?,
                _ => patch_ids(&values()?)?,
            };
            match op.as_str() {
                "replace" => membership.replace_members = Some(ids),
                "remove" => membership.remove_members.extend(ids),
                _ => membership.add_members.extend(ids),
            }
        }
        "groups" if record.kind != PrincipalKind::Group => {
            let ids = patch_ids(&values()?)?;
            match op.as_str() {
                "remove" => membership.remove_from_groups.extend(ids),
                _ => membership.add_to_groups.extend(ids),
            }
        }
        "emails" | "name" | "name.givenname" | "name.familyname" if record.kind == PrincipalKind::User => {
            set_user_attribute(record, &attribute, operation.value.clone().unwrap_or_default());
        }
        _ => return Err(Error::invalid(format!("PATCH path '{path}' is not supported for {}", resource_name(record.kind)))),
    }
    Ok(())
}

/// The ids a `members[value eq "1" or value eq "2"]` path names.
fn filter_member_ids(path: &str) -> Result<Vec<String>> {
    let mut ids = Vec::new();
    let mut rest = path;
    while let Some(start) = rest.find('"') {
        let after = &rest[start + 1..];
        let Some(end) = after.find('"') else { break };
        ids.push(after[..end].to_string());
        rest = &after[end + 1..];
    }
    if ids.is_empty() {
        return Err(Error::invalid(format!("PATCH path '{path}' names no member: use members[value eq \"<id>\"]")));
    }
    Ok(ids)
}

fn set_user_attribute(record: &mut PrincipalRecord, attribute: &str, value: serde_json::Value) {
    if !record.attributes.is_object() {
        record.attributes = serde_json::json!({});
    }
    let Some(attributes) = record.attributes.as_object_mut() else { return };
    match attribute {
        "name.givenname" | "name.familyname" => {
            let key = if attribute == "name.givenname" { "givenName" } else { "familyName" };
            let name = attributes.entry("name").or_insert_with(|| serde_json::json!({}));
            if let Some(name) = name.as_object_mut() {
                name.insert(key.to_string(), value);
            }
        }
        other => {
            attributes.insert(other.to_string(), value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn principals_are_checked_in_scim_names_before_they_are_stored() {
        let mut user = PrincipalRecord::new(1, PrincipalKind::User, "a@example.com");
        user.entitlements = vec!["allow-cluster-create".to_string()];
        user.attributes = serde_json::json!({"emails": [{"value": "a@example.com", "primary": true, "type": "work"}]});
        checked(&user).expect("a valid user");
        user.entitlements.push("fly".to_string());
        assert!(checked(&user).unwrap_err().message.starts_with("entitlements[1].value 'fly' must be one of allow-cluster-create"));
        user.entitlements.pop();
        user.attributes = serde_json::json!({"emails": [{"value": "a@example.com", "primary": "yes"}]});
        assert_eq!(checked(&user).unwrap_err().message, "emails[0].primary must be true or false, got a string");
        user.name = "a\u{0}b".to_string();
        assert_eq!(checked(&user).unwrap_err().message, "userName must not contain control characters");
        let group = PrincipalRecord::new(2, PrincipalKind::Group, "");
        assert_eq!(checked(&group).unwrap_err().message, "displayName must not be empty");
        let service_principal = PrincipalRecord::new(3, PrincipalKind::ServicePrincipal, &"x".repeat(257));
        assert_eq!(checked(&service_principal).unwrap_err().message, "applicationId must be at most 256 bytes, got 257");
    }
}
