"""The routes test_hardening_inputs.py probes: for each write route a known-good baseline
body, the fields to mutate (read from the SDK, see hardening_inputs.sdk_fields), route-specific
extra mutations, and what to do when a mutated write is accepted: read the object back and list
its collection with the SDK (the poison check), then clean up.

`PROBES` maps a probe name to a builder `(ctx) -> Probe`; `ctx` is the test's ProbeContext,
which owns the server, the raw session, the SDK client and the objects probes write to
(`ctx.target(name)`, made on first use and remade with `ctx.reset(name)`).
"""

from __future__ import annotations

import base64
import itertools
import json
from dataclasses import dataclass
from typing import Any, Callable, Optional

from databricks.sdk.service import catalog, iam, oauth2, settings, sql, workspace
from databricks.sdk.service import files as sdk_files

from hardening_inputs import (
    ACCEPT, EITHER, INT64_MAX, MIB, REJECT, SCIM_READ_ONLY, Case, Field, Kind, Mutation, body_cases, field_cases,
    fields_from, path_cases, query_cases, sdk_query_params, unknown_field_cases, wrong_method_case,
)

SCIM = "/api/2.0/preview/scim/v2"
USER_SCHEMA = "urn:ietf:params:scim:schemas:core:2.0:User"
PATCH_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
UC = "/api/2.1/unity-catalog"
JOBS = "/api/2.2/jobs"
CLUSTERS = "/api/2.1/clusters"
SPARK_VERSION = "15.4.x-scala2.12"
LIST_CAP = 100


@dataclass
class Probe:
    cases: list[Case]
    # Called with (case, response JSON or None) after a 2xx: reads back with the SDK (errors
    # are recorded by ctx.check) and cleans up.
    after_accept: Callable[[Case, Any], None] = lambda case, answer: None
    # Targets remade after a case that got a 5xx or poisoned a read-back, so one stored bad
    # object is not blamed on every later case.
    taint: tuple = ()


def capped(iterable, cap: int = LIST_CAP) -> list:
    """An SDK list, read to at most `cap` items (a list that never ends must not hang)."""
    return list(itertools.islice(iterable, cap))


def body_of(case: Case) -> dict:
    """The case's JSON body as an object ({} when it is not one)."""
    try:
        body = json.loads(case.body or b"{}")
    except (ValueError, RecursionError):
        return {}
    return body if isinstance(body, dict) else {}


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def route(method: str, path: str) -> str:
    return f"{method} {path}"


def unserved_method(method: str, label: str) -> str:
    """A method the route's path does not serve: items (`.../{id}`) serve GET, PUT/PATCH and
    DELETE; collections GET and POST; action routes (`.../create`) only their own method."""
    if "{" in label.rsplit("/", 1)[-1] or label.endswith("workspace-conf"):
        return "POST"
    if method == "POST" and label.rstrip("/").rsplit("/", 1)[-1] in ("Users", "Groups", "ServicePrincipals", "catalogs", "schemas", "volumes", "functions", "warehouses", "queries", "notification-destinations", "secrets"):
        return "PUT"
    return "GET" if method != "GET" else "DELETE"


def standard(ctx, method: str, path: str, baseline: Callable[[], dict], fields: list[Field], *, extra=None, freeform=(), nested_unknown=(), label: Optional[str] = None, unknown=True) -> list[Case]:
    """Field mutations, whole-body mutations, one wrong method and the unknown-field positives
    of a JSON write route."""
    name = route(method, label or path)
    cases = field_cases(name, method, path, baseline, fields, extra)
    cases += body_cases(name, method, path, baseline(), ["kiln_probe_unknown", *freeform])
    cases.append(wrong_method_case(name, method, path, unserved_method(method, label or path)))
    if unknown:
        cases += unknown_field_cases(name, method, path, baseline, nested_unknown)
    return cases


# --- SCIM ---------------------------------------------------------------------------------------


def _scim_user(ctx) -> dict:
    name = f"{ctx.unique('probe')}@example.com"
    return {"schemas": [USER_SCHEMA], "userName": name, "displayName": "Probe User", "active": True,
            "emails": [{"value": name, "type": "work", "primary": True}], "name": {"givenName": "Probe", "familyName": "User"},
            "entitlements": [{"value": "allow-cluster-create"}]}


def identity(target: str) -> dict:
    """The fields a SCIM PUT of target `target` must keep (placeholders, see ctx.ref)."""
    return {"user": {"userName": "@@user.userName@@"}, "group": {"displayName": "@@group.displayName@@"},
            "sp": {"applicationId": "@@sp.applicationId@@", "displayName": "@@sp.displayName@@"}}[target]


def _scim_read(ctx, segment: str, api, object_id: Optional[str]):
    if object_id:
        ctx.check(f"SDK {segment}.get", lambda: api.get(object_id), allow_not_found=True)
    ctx.check(f"SDK {segment}.list", lambda: capped(api.list()))


def _scim_probe(ctx, segment: str, api, create_fields, nested: dict, baseline: Callable[[], dict], target: str, patch_value: Callable[[], list]) -> Probe:
    collection = f"{SCIM}/{segment}"
    fields = fields_from("", create_fields)
    for prefix, cls in nested.items():
        fields += fields_from(f"{prefix}.", cls)
    cases = standard(ctx, "POST", collection, baseline, fields, nested_unknown=tuple(p for p in nested if p.endswith("]")))
    cases += standard(ctx, "PUT", f"{collection}/{ctx.ref(target + '.id')}", lambda: {**baseline(), **identity(target)}, fields, label=f"{collection}/{{id}}")
    for case in cases:
        if case.field in SCIM_READ_ONLY:
            case.expect = EITHER  # RFC 7644 3.3: read-only attributes in a request are ignored
    item = f"{collection}/{ctx.ref(target + '.id')}"
    put_baseline = lambda: {**baseline(), **identity(target)}
    patch_body = lambda: {"schemas": [PATCH_SCHEMA], "Operations": [{"op": "replace", "path": "displayName", "value": "Probe patched"}]}
    patch_fields = fields_from("", api.patch) + fields_from("Operations[0].", iam.Patch)
    extra = {"Operations[0]": [
        Mutation("active given a string", {"op": "replace", "path": "active", "value": "yes"}, REJECT, False),
        Mutation("displayName given a number", {"op": "replace", "path": "displayName", "value": 5}, REJECT, False),
        Mutation("displayName given an object", {"op": "replace", "path": "displayName", "value": {"a": "b"}}, REJECT, False),
        Mutation("an attribute that does not exist", {"op": "replace", "path": "kilnNoSuchAttribute", "value": "x"}, REJECT, False),
        Mutation("a malformed path filter", {"op": "remove", "path": "members[value eq"}, REJECT, False),
        Mutation("add without a value", {"op": "add", "path": "entitlements"}, REJECT, False),
        Mutation("entitlements given a string", {"op": "add", "path": "entitlements", "value": "x"}, REJECT, False),
        Mutation("groups/members with a non-numeric id", {"op": "add", "path": "members" if segment == "Groups" else "groups", "value": [{"value": "abc"}]}, REJECT, False),
        Mutation("a 1 MiB displayName", {"op": "replace", "path": "displayName", "value": "x" * MIB}, REJECT, False),
        Mutation("displayName with NUL", {"op": "replace", "path": "displayName", "value": "a\u0000b"}, REJECT, False),
    ] + [Mutation("a value of another shape", v, EITHER, False) for v in patch_value()],
        "Operations": [Mutation("10,000 operations", [{"op": "replace", "path": "displayName", "value": "x"}] * 10_000, EITHER, False)]}
    cases += standard(ctx, "PATCH", item, patch_body, patch_fields, extra=extra, label=f"{collection}/{{id}}")
    for method, body in (("GET", None), ("PUT", put_baseline()), ("PATCH", patch_body()), ("DELETE", None)):
        cases += path_cases(route(method, f"{collection}/{{id}}"), method, collection + "/{}", body)
    cases += query_cases(route("GET", collection), collection, "", {"startIndex": "scim_number", "count": "scim_number", "filter": "scim_filter", "sortOrder": "text", "sortBy": "text", "attributes": "text"})

    def after(case: Case, answer):
        object_id = (answer or {}).get("id") if case.method == "POST" else ctx.target(target)["id"]
        _scim_read(ctx, segment, api, object_id)
        if case.method == "POST" and object_id:
            ctx.quiet("DELETE", f"{collection}/{object_id}")
        elif case.method in ("PUT", "PATCH"):
            ctx.reset(target)

    return Probe(cases, after)


def probe_scim_users(ctx) -> Probe:
    return _scim_probe(ctx, "Users", ctx.sdk.users, iam.UsersAPI.create, {"emails[0]": iam.ComplexValue, "name": iam.Name, "entitlements[0]": iam.ComplexValue},
                       lambda: _scim_user(ctx), "user", lambda: [{"op": "add", "path": "emails", "value": [{"value": "x@example.com", "primary": "yes"}]}])


def probe_scim_groups(ctx) -> Probe:
    baseline = lambda: {"displayName": ctx.unique("probe-group"), "members": [{"value": ctx.target("stable_sp")["id"]}], "entitlements": [{"value": "workspace-access"}]}
    return _scim_probe(ctx, "Groups", ctx.sdk.groups, iam.GroupsAPI.create, {"members[0]": iam.ComplexValue, "entitlements[0]": iam.ComplexValue},
                       baseline, "group", lambda: [{"op": "add", "path": "members", "value": {"value": ctx.target("stable_sp")["id"]}}])


def probe_scim_service_principals(ctx) -> Probe:
    baseline = lambda: {"displayName": ctx.unique("probe-sp"), "active": True, "entitlements": [{"value": "workspace-access"}]}
    return _scim_probe(ctx, "ServicePrincipals", ctx.sdk.service_principals, iam.ServicePrincipalsAPI.create, {"entitlements[0]": iam.ComplexValue},
                       baseline, "sp", lambda: [{"op": "replace", "path": "active", "value": "false"}])


# --- tokens, token management, OAuth secrets -----------------------------------------------------


def probe_tokens(ctx) -> Probe:
    create = "/api/2.0/token/create"
    baseline = lambda: {"comment": "probe", "lifetime_seconds": 3600}
    # Kiln also takes `scopes` (a list of strings), which this SDK version does not send.
    fields = fields_from("", settings.TokensAPI.create) + [Field("scopes", Kind("list", element=Kind("str")))]
    extra = {
        # Kiln takes -1 as "never expires" (the Databricks CLI documents it); either answer is fine.
        "lifetime_seconds": [Mutation("zero", 0), Mutation("negative (-1) means never expires", -1, EITHER, False)],
        "comment": [Mutation("1 MiB comment", "x" * MIB), Mutation("NUL in comment", "a\u0000b", EITHER, False)],
    }
    cases = [c for c in standard(ctx, "POST", create, baseline, fields, extra=extra) if not (c.field == "lifetime_seconds" and c.mutation == "negative (-1)")]
    delete = "/api/2.0/token/delete"
    cases += standard(ctx, "POST", delete, lambda: {"token_id": ctx.unique("nosuchtoken")}, fields_from("", settings.TokensAPI.delete), unknown=False)
    obo = "/api/2.0/token-management/on-behalf-of/tokens"
    obo_baseline = lambda: {"application_id": ctx.target("stable_sp")["applicationId"], "comment": "probe", "lifetime_seconds": 3600}
    cases += [c for c in standard(ctx, "POST", obo, obo_baseline, fields_from("", settings.TokenManagementAPI.create_obo_token), extra=extra) if not (c.field == "lifetime_seconds" and c.mutation == "negative (-1)")]
    management = "/api/2.0/token-management/tokens"
    cases += query_cases(route("GET", management), management, "", sdk_query_params(settings.TokenManagementAPI.list))
    for method in ("GET", "DELETE"):
        cases += path_cases(route(method, f"{management}/{{token_id}}"), method, management + "/{}", None)

    def after(case: Case, answer):
        token_id = ((answer or {}).get("token_info") or {}).get("token_id")
        ctx.check("SDK tokens.list", lambda: ctx.sdk.tokens.list())
        ctx.check("SDK token_management.list", lambda: capped(ctx.sdk.token_management.list()))
        if token_id:
            ctx.check("SDK token_management.get", lambda: ctx.sdk.token_management.get(token_id))
            ctx.quiet("DELETE", f"{management}/{token_id}")

    return Probe(cases, after)


def probe_sp_secrets(ctx) -> Probe:
    path = f"/api/2.0/accounts/servicePrincipals/{ctx.ref('secret_sp.id')}/credentials/secrets"
    label = "/api/2.0/accounts/servicePrincipals/{id}/credentials/secrets"
    baseline = lambda: {"lifetime": "3600s"}
    fields = fields_from("", oauth2.ServicePrincipalSecretsProxyAPI.create)
    extra = {"lifetime": [
        Mutation("non-numeric", "abcs"), Mutation("no unit", "3600"), Mutation("negative", "-5s"), Mutation("zero", "0s"),
        Mutation("int64 max seconds", f"{INT64_MAX}s"), Mutation("beyond int64", "99999999999999999999s"), Mutation("1e300s", "1e300s"),
        Mutation("empty", ""), Mutation("NUL", "5\u0000s"),
        # A protobuf Duration may carry fractional seconds; either answer is fine.
        Mutation("fractional seconds", "3600.5s", EITHER, False),
    ], "scopes": [Mutation("wrong type: string", "all-apis"), Mutation("list element of the wrong type", [5])]}
    cases = standard(ctx, "POST", path, baseline, fields, extra=extra, label=label)
    cases += query_cases(route("GET", label), path, "", sdk_query_params(oauth2.ServicePrincipalSecretsProxyAPI.list))
    cases += path_cases(route("POST", label.replace("{id}", "{bad id}")), "POST", "/api/2.0/accounts/servicePrincipals/{}/credentials/secrets", baseline())
    cases += path_cases(route("DELETE", label + "/{secret_id}"), "DELETE", path + "/{}", None)

    def after(case: Case, answer):
        sp_id = ctx.target("secret_sp")["id"]
        ctx.check("SDK service_principal_secrets_proxy.list", lambda: capped(ctx.sdk.service_principal_secrets_proxy.list(sp_id)))
        secret_id = (answer or {}).get("id")
        if secret_id:
            ctx.quiet("DELETE", f"/api/2.0/accounts/servicePrincipals/{sp_id}/credentials/secrets/{secret_id}")

    return Probe(cases, after, taint=("secret_sp",))


# --- permissions ---------------------------------------------------------------------------------


def probe_permissions(ctx) -> Probe:
    job_id = ctx.target("perm_job")
    path = f"/api/2.0/permissions/jobs/{job_id}"
    label = "/api/2.0/permissions/jobs/{job_id}"
    baseline = lambda: {"access_control_list": [{"user_name": ctx.target("stable_user")["userName"], "permission_level": "CAN_VIEW"}]}
    fields = fields_from("", iam.PermissionsAPI.set) + fields_from("access_control_list[0].", iam.AccessControlRequest)
    extra = {"access_control_list[0]": [
        Mutation("no principal", {"permission_level": "CAN_VIEW"}, REJECT, False),
        Mutation("two principals", {"user_name": "admin@kiln.local", "group_name": "users", "permission_level": "CAN_VIEW"}, REJECT, False),
        Mutation("a level of another object type", {"group_name": "users", "permission_level": "CAN_USE"}, REJECT, False),
    ], "access_control_list": [Mutation("10,000 entries", [{"group_name": "users", "permission_level": "CAN_VIEW"}] * 10_000, EITHER, False)]}
    cases = []
    for method in ("PUT", "PATCH"):
        cases += standard(ctx, method, path, baseline, fields, extra=extra, label=label)
        cases += path_cases(route(method, "/api/2.0/permissions/{object_type}/1"), method, "/api/2.0/permissions/{}/1", baseline())
        cases += path_cases(route(method, "/api/2.0/permissions/jobs/{object_id}"), method, "/api/2.0/permissions/jobs/{}", baseline())

    def after(case: Case, answer):
        ctx.check("SDK permissions.get", lambda: ctx.sdk.permissions.get("jobs", str(job_id)))
        ctx.check("SDK jobs.get", lambda: ctx.sdk.jobs.get(job_id))
        ctx.quiet("PUT", path, {"access_control_list": []})

    return Probe(cases, after)


# --- Unity Catalog -------------------------------------------------------------------------------


def probe_uc_catalogs(ctx) -> Probe:
    collection = f"{UC}/catalogs"
    baseline = lambda: {"name": ctx.uc_name("probe_cat"), "comment": "probe", "properties": {"a": "b"}}
    cases = standard(ctx, "POST", collection, baseline, fields_from("", catalog.CatalogsAPI.create), freeform=())
    update = lambda: {"comment": "updated", "properties": {"k": "v"}}
    cases += standard(ctx, "PATCH", f"{collection}/{ctx.ref('catalog')}", update, fields_from("", catalog.CatalogsAPI.update), label=f"{collection}/{{name}}",
                      extra={"new_name": [Mutation("empty new name", "")]})
    cases += query_cases(route("GET", collection), collection, "", sdk_query_params(catalog.CatalogsAPI.list, skip=("include_browse", "include_unbound")))
    for method, body in (("GET", None), ("PATCH", update()), ("DELETE", None)):
        cases += path_cases(route(method, f"{collection}/{{name}}"), method, collection + "/{}", body)

    def after(case: Case, answer):
        name = (answer or {}).get("name") if case.method == "POST" else ctx.target("catalog")
        if name:
            ctx.check("SDK catalogs.get", lambda: ctx.sdk.catalogs.get(name), allow_not_found=True)
        ctx.check("SDK catalogs.list", lambda: capped(ctx.sdk.catalogs.list()))
        if case.method == "POST" and name:
            ctx.quiet("DELETE", f"{collection}/{name}", query="force=true")
        else:
            ctx.reset("catalog")

    return Probe(cases, after)


def probe_uc_schemas(ctx) -> Probe:
    collection = f"{UC}/schemas"
    parent = ctx.target("home_catalog")
    baseline = lambda: {"name": ctx.uc_name("probe_schema"), "catalog_name": parent, "comment": "probe", "properties": {"a": "b"}}
    cases = standard(ctx, "POST", collection, baseline, fields_from("", catalog.SchemasAPI.create))
    update = lambda: {"comment": "updated", "properties": {"k": "v"}}
    cases += standard(ctx, "PATCH", f"{collection}/{ctx.ref('schema')}", update, fields_from("", catalog.SchemasAPI.update), label=f"{collection}/{{full_name}}")
    cases += query_cases(route("GET", collection), collection, f"catalog_name={parent}", sdk_query_params(catalog.SchemasAPI.list, skip=("include_browse",)))
    for method, body in (("GET", None), ("PATCH", update()), ("DELETE", None)):
        cases += path_cases(route(method, f"{collection}/{{full_name}}"), method, collection + "/{}", body)

    def after(case: Case, answer):
        full = (answer or {}).get("full_name") if case.method == "POST" else ctx.target("schema")
        if full:
            ctx.check("SDK schemas.get", lambda: ctx.sdk.schemas.get(full), allow_not_found=True)
        ctx.check("SDK schemas.list", lambda: capped(ctx.sdk.schemas.list(parent)))
        if case.method == "POST" and full:
            ctx.quiet("DELETE", f"{collection}/{full}", query="force=true")
        else:
            ctx.reset("schema")

    return Probe(cases, after)


def probe_uc_volumes(ctx) -> Probe:
    collection = f"{UC}/volumes"
    catalog_name, schema_name = ctx.target("home_schema").split(".")
    baseline = lambda: {"name": ctx.uc_name("probe_vol"), "catalog_name": catalog_name, "schema_name": schema_name, "volume_type": "MANAGED", "comment": "probe"}
    cases = standard(ctx, "POST", collection, baseline, fields_from("", catalog.VolumesAPI.create), extra={"storage_location": [Mutation("a local path outside the volume root", "/etc", REJECT, False)]})
    update = lambda: {"comment": "updated"}
    cases += standard(ctx, "PATCH", f"{collection}/{ctx.ref('volume')}", update, fields_from("", catalog.VolumesAPI.update), label=f"{collection}/{{name}}")
    cases += query_cases(route("GET", collection), collection, f"catalog_name={catalog_name}&schema_name={schema_name}", sdk_query_params(catalog.VolumesAPI.list, skip=("include_browse",)))
    for method, body in (("GET", None), ("PATCH", update()), ("DELETE", None)):
        cases += path_cases(route(method, f"{collection}/{{name}}"), method, collection + "/{}", body)

    def after(case: Case, answer):
        full = (answer or {}).get("full_name") if case.method == "POST" else ctx.target("volume")
        if full:
            ctx.check("SDK volumes.read", lambda: ctx.sdk.volumes.read(full), allow_not_found=True)
        ctx.check("SDK volumes.list", lambda: capped(ctx.sdk.volumes.list(catalog_name, schema_name)))
        if case.method == "POST" and full:
            ctx.quiet("DELETE", f"{collection}/{full}")
        else:
            ctx.reset("volume")

    return Probe(cases, after)


def function_info(ctx, catalog_name: str, schema_name: str) -> dict:
    name = ctx.uc_name("probe_fn")
    return {"name": name, "catalog_name": catalog_name, "schema_name": schema_name,
            "input_params": {"parameters": [{"name": "x", "type_text": "int", "type_name": "INT", "position": 0}]},
            "data_type": "INT", "full_data_type": "int", "routine_body": "SQL", "routine_definition": "x + 1", "parameter_style": "S",
            "is_deterministic": True, "sql_data_access": "CONTAINS_SQL", "is_null_call": False, "security_type": "DEFINER", "specific_name": name}


def probe_uc_functions(ctx) -> Probe:
    collection = f"{UC}/functions"
    catalog_name, schema_name = ctx.target("home_schema").split(".")
    baseline = lambda: {"function_info": function_info(ctx, catalog_name, schema_name)}
    fields = fields_from("", catalog.FunctionsAPI.create) + fields_from("function_info.", catalog.CreateFunction) + fields_from("function_info.input_params.parameters[0].", catalog.FunctionParameterInfo)
    extra = {"function_info.routine_definition": [Mutation("not SQL", "((( SELECT", REJECT, False)],
             "function_info.input_params.parameters": [Mutation("10,000 parameters", [{"name": f"p{i}", "type_text": "int", "type_name": "INT", "position": i} for i in range(10_000)], EITHER, False)]}
    cases = standard(ctx, "POST", collection, baseline, fields, extra=extra, nested_unknown=("function_info",))
    update = lambda: {"owner": ctx.admin_name}
    cases += standard(ctx, "PATCH", f"{collection}/{ctx.ref('function')}", update, fields_from("", catalog.FunctionsAPI.update), label=f"{collection}/{{name}}")
    cases += query_cases(route("GET", collection), collection, f"catalog_name={catalog_name}&schema_name={schema_name}", sdk_query_params(catalog.FunctionsAPI.list, skip=("include_browse",)))
    for method, body in (("GET", None), ("PATCH", update()), ("DELETE", None)):
        cases += path_cases(route(method, f"{collection}/{{name}}"), method, collection + "/{}", body)

    def after(case: Case, answer):
        full = (answer or {}).get("full_name") if case.method == "POST" else ctx.target("function")
        if full:
            ctx.check("SDK functions.get", lambda: ctx.sdk.functions.get(full), allow_not_found=True)
        ctx.check("SDK functions.list", lambda: capped(ctx.sdk.functions.list(catalog_name, schema_name)))
        if case.method == "POST" and full:
            ctx.quiet("DELETE", f"{collection}/{full}")
        else:
            ctx.reset("function")

    return Probe(cases, after)


def probe_uc_grants_and_owners(ctx) -> Probe:
    target = ctx.target("grant_catalog")
    path = f"{UC}/permissions/catalog/{target}"
    baseline = lambda: {"changes": [{"principal": "account users", "add": ["USE_CATALOG"], "remove": []}]}
    fields = fields_from("", catalog.GrantsAPI.update) + fields_from("changes[0].", catalog.PermissionsChange)
    extra = {"changes[0].principal": [Mutation("a principal that does not exist", "kiln-no-such-principal", REJECT, False)],
             "changes": [Mutation("10,000 changes", [{"principal": "account users", "add": ["USE_CATALOG"]}] * 10_000, EITHER, False)]}
    cases = standard(ctx, "PATCH", path, baseline, fields, extra=extra, label=f"{UC}/permissions/catalog/{{name}}")
    cases += path_cases(route("PATCH", f"{UC}/permissions/{{securable_type}}/main"), "PATCH", UC + "/permissions/{}/main", baseline())
    cases += path_cases(route("PATCH", f"{UC}/permissions/catalog/{{full_name}}"), "PATCH", UC + "/permissions/catalog/{}", baseline())
    table = ctx.target("table")
    owner = lambda: {"owner": ctx.admin_name}
    cases += standard(ctx, "PATCH", f"{UC}/tables/{table}", owner, fields_from("", catalog.TablesAPI.update), label=f"{UC}/tables/{{full_name}}",
                      extra={"owner": [Mutation("a principal that does not exist", "kiln-no-such-principal", REJECT, False)]})
    cases += path_cases(route("PATCH", f"{UC}/tables/{{full_name}}"), "PATCH", UC + "/tables/{}", owner())
    schema = ctx.target("home_schema")
    cases += query_cases(route("GET", f"{UC}/tables"), f"{UC}/tables", "catalog_name={}&schema_name={}".format(*schema.split(".")),
                         sdk_query_params(catalog.TablesAPI.list, skip=("include_browse", "include_manifest_capabilities", "omit_columns", "omit_properties", "omit_username")))
    cases += query_cases(route("GET", f"{UC}/table-summaries"), f"{UC}/table-summaries", f"catalog_name={schema.split('.')[0]}",
                         sdk_query_params(catalog.TablesAPI.list_summaries, skip=("include_manifest_capabilities",)))

    def after(case: Case, answer):
        ctx.check("SDK grants.get", lambda: ctx.sdk.grants.get("catalog", target))
        ctx.check("SDK catalogs.get", lambda: ctx.sdk.catalogs.get(target))
        ctx.check("SDK tables.get", lambda: ctx.sdk.tables.get(table))
        ctx.check("SDK tables.list", lambda: capped(ctx.sdk.tables.list(*schema.split("."))))

    return Probe(cases, after)


# --- SQL: warehouses, statements, saved queries ---------------------------------------------------


def warehouse_body(ctx) -> dict:
    return {"name": ctx.unique("probe-wh"), "cluster_size": "2X-Small", "auto_stop_mins": 10, "min_num_clusters": 1, "max_num_clusters": 1,
            "enable_photon": True, "warehouse_type": "PRO", "spot_instance_policy": "COST_OPTIMIZED", "channel": {"name": "CHANNEL_NAME_CURRENT"},
            "tags": {"custom_tags": [{"key": "team", "value": "probe"}]}}


def probe_warehouses(ctx) -> Probe:
    collection = "/api/2.0/sql/warehouses"
    baseline = lambda: warehouse_body(ctx)
    fields = fields_from("", sql.WarehousesAPI.create) + fields_from("channel.", sql.Channel) + fields_from("tags.", sql.EndpointTags) + fields_from("tags.custom_tags[0].", sql.EndpointTagPair)
    extra = {"cluster_size": [Mutation("unknown size", "Galactic")], "min_num_clusters": [Mutation("zero", 0)], "max_num_clusters": [Mutation("zero", 0)],
             # Databricks: 0 (never) or at least 10 minutes.
             "auto_stop_mins": [Mutation("5 minutes", 5)]}
    cases = standard(ctx, "POST", collection, baseline, fields, extra=extra)
    cases.append(Case(route("POST", collection), "max_num_clusters", "below min_num_clusters", "POST", collection, json.dumps({**baseline(), "min_num_clusters": 3, "max_num_clusters": 2}).encode(), headers={"Content-Type": "application/json"}))
    target = ctx.target("warehouse")
    edit = f"{collection}/{target}/edit"
    cases += standard(ctx, "POST", edit, lambda: {**warehouse_body(ctx), "id": target}, fields, label=f"{collection}/{{id}}/edit", extra=extra)
    cases += query_cases(route("GET", collection), collection, "", sdk_query_params(sql.WarehousesAPI.list, skip=("run_as_user_id",)))
    for method, suffix, body in (("GET", "", None), ("DELETE", "", None), ("POST", "/edit", baseline()), ("POST", "/start", None), ("POST", "/stop", None)):
        cases += path_cases(route(method, f"{collection}/{{id}}{suffix}"), method, collection + "/{}" + suffix, body)

    def after(case: Case, answer):
        warehouse_id = (answer or {}).get("id") if case.path == collection else target
        if warehouse_id:
            ctx.check("SDK warehouses.get", lambda: ctx.sdk.warehouses.get(warehouse_id), allow_not_found=True)
        ctx.check("SDK warehouses.list", lambda: capped(ctx.sdk.warehouses.list()))
        if case.path == collection and warehouse_id:
            ctx.quiet("DELETE", f"{collection}/{warehouse_id}")
        elif case.path != collection:
            ctx.quiet("POST", edit, {k: v for k, v in warehouse_body(ctx).items() if k != "name"})

    return Probe(cases, after)


def probe_statements(ctx) -> Probe:
    path = "/api/2.0/sql/statements"
    baseline = lambda: {"statement": "SELECT :p AS v", "warehouse_id": ctx.target("starter"), "wait_timeout": "5s", "on_wait_timeout": "CONTINUE", "disposition": "INLINE",
                        "format": "JSON_ARRAY", "row_limit": 10, "byte_limit": 100000, "catalog": "main", "schema": "default", "parameters": [{"name": "p", "value": "1", "type": "INT"}]}
    fields = [f for f in fields_from("", sql.StatementExecutionAPI.execute_statement)] + fields_from("parameters[0].", sql.StatementParameterListItem)
    extra = {"wait_timeout": [Mutation(label, value) for label, value in (("non-numeric", "abcs"), ("no unit", "10"), ("negative", "-5s"), ("below 5 s", "4s"), ("above 50 s", "51s"),
                                                                             ("int64 max", f"{INT64_MAX}s"), ("beyond int64", "99999999999999999999s"), ("1e300s", "1e300s"), ("NUL", "5\u0000s"))],
             "parameters[0].type": [Mutation("unknown SQL type", "NOT_A_TYPE", REJECT, False)],
             "parameters": [Mutation("10,000 parameters", [{"name": f"p{i}", "value": "1"} for i in range(10_000)], EITHER, False)]}
    # A huge row or byte limit is just no limit: Databricks declares both int64.
    for key in ("row_limit", "byte_limit"):
        extra[key] = [Mutation("zero", 0, EITHER, False)]
    cases = standard(ctx, "POST", path, baseline, fields, extra=extra)
    for case in cases:
        if case.field in ("row_limit", "byte_limit") and case.mutation == "int64 max":
            case.expect = EITHER
    cases += path_cases(route("GET", f"{path}/{{id}}"), "GET", path + "/{}", None)
    cases += path_cases(route("POST", f"{path}/{{id}}/cancel"), "POST", path + "/{}/cancel", None)
    history = "/api/2.0/sql/history/queries"
    cases += query_cases(route("GET", history), history, "", {"max_results": "size", "page_token": "token", "filter_by.user_ids": "id", "filter_by.statuses": "enum",
                                                                "filter_by.query_start_time_range.start_time_ms": "time", "filter_by.query_start_time_range.end_time_ms": "time"})

    def after(case: Case, answer):
        statement_id = (answer or {}).get("statement_id")
        if statement_id:
            ctx.check("SDK statement_execution.get_statement", lambda: ctx.sdk.statement_execution.get_statement(statement_id))
            ctx.quiet("POST", f"{path}/{statement_id}/cancel")
        ctx.check("SDK query_history.list", lambda: ctx.sdk.query_history.list(max_results=100))

    return Probe(cases, after)


def saved_query(ctx) -> dict:
    return {"display_name": ctx.unique("probe-query"), "query_text": "SELECT 1", "warehouse_id": ctx.target("starter"), "catalog": "main", "schema": "default",
            "description": "probe", "tags": ["probe"], "apply_auto_limit": True, "run_as_mode": "OWNER",
            "parameters": [{"name": "p", "title": "P", "text_value": {"value": "x"}}]}


def probe_queries(ctx) -> Probe:
    collection = "/api/2.0/sql/queries"
    baseline = lambda: {"query": saved_query(ctx), "auto_resolve_display_name": False}
    fields = fields_from("", sql.QueriesAPI.create) + fields_from("query.", sql.CreateQueryRequestQuery) + fields_from("query.parameters[0].", sql.QueryParameter)
    cases = standard(ctx, "POST", collection, baseline, fields, freeform=("query.parameters[0].text_value",), nested_unknown=("query",))
    mask = "display_name,query_text,warehouse_id,catalog,schema,description,tags,parameters,apply_auto_limit,run_as_mode"
    update = lambda: {"update_mask": mask, "query": saved_query(ctx)}
    update_fields = fields_from("", sql.QueriesAPI.update) + fields_from("query.", sql.UpdateQueryRequestQuery)
    cases += standard(ctx, "PATCH", f"{collection}/{ctx.ref('query')}", update, update_fields, label=f"{collection}/{{id}}",
                      extra={"update_mask": [Mutation("a field that does not exist", "kiln_no_such_field"), Mutation("empty", "")]})
    cases += query_cases(route("GET", collection), collection, "", sdk_query_params(sql.QueriesAPI.list))
    for method, body in (("GET", None), ("PATCH", update()), ("DELETE", None)):
        cases += path_cases(route(method, f"{collection}/{{id}}"), method, collection + "/{}", body)

    def after(case: Case, answer):
        query_id = (answer or {}).get("id") if case.method == "POST" else ctx.target("query")
        if query_id:
            ctx.check("SDK queries.get", lambda: ctx.sdk.queries.get(query_id), allow_not_found=True)
        ctx.check("SDK queries.list", lambda: capped(ctx.sdk.queries.list()))
        if case.method == "POST" and query_id:
            ctx.quiet("DELETE", f"{collection}/{query_id}")
        else:
            ctx.reset("query")

    return Probe(cases, after)


# --- Files API and DBFS -----------------------------------------------------------------------------


def probe_files(ctx) -> Probe:
    root = "/Volumes/" + ctx.target("home_volume").replace(".", "/")
    files, directories = "/api/2.0/fs/files", "/api/2.0/fs/directories"
    octet = {"Content-Type": "application/octet-stream"}
    cases = []
    for label, name in (("NUL in the name", "a%00b"), ("BEL in the name", "a%07b"), ("newline in the name", "a%0Ab"), ("dot-dot", "../../escape"), ("encoded dot-dot", "%2e%2e/%2e%2e/escape"),
                        ("10 KB name", "n" * 10240), ("invalid UTF-8", "%FF%FE"), ("backslash dot-dot", "..%5C..%5Cescape"), ("empty segment", "a//b")):
        cases.append(Case(route("PUT", f"{files}{{path}}"), "{path}", label, "PUT", f"{files}{root}/{name}", b"hello", query="overwrite=true", headers=octet))
        cases.append(Case(route("PUT", f"{directories}{{path}}"), "{path}", label, "PUT", f"{directories}{root}/{name}"))
        cases.append(Case(route("GET", f"{files}{{path}}"), "{path}", label, "GET", f"{files}{root}/{name}"))
    for case in cases:
        if case.mutation == "empty segment":
            case.expect = EITHER
    for label, value in (("not a bool", "yes"), ("number", "2"), ("NUL", "%00")):
        cases.append(Case(route("PUT", f"{files}{{path}}"), "?overwrite", label, "PUT", f"{files}{root}/probe.txt", b"x", query=f"overwrite={value}", headers=octet))
    for label, value in (("unknown action", "explode"), ("NUL", "%00")):
        cases.append(Case(route("POST", f"{files}{{path}}"), "?action", label, "POST", f"{files}{root}/probe.txt", b"", query=f"action={value}"))
    cases += query_cases(route("GET", f"{directories}{{path}}"), f"{directories}{root}", "", {"page_size": "size", "page_token": "token"})
    cases.append(Case(route("GET", f"{files}{{path}}"), "Range", "a range beyond the file", "GET", f"{files}{root}/probe-range.txt", headers={"Range": "bytes=99999999999999999999-"}, expect=REJECT))

    def after(case: Case, answer):
        ctx.check("SDK files.list_directory_contents", lambda: capped(ctx.sdk.files.list_directory_contents(root)))

    ctx.quiet("PUT", f"{files}{root}/probe-range.txt", raw=b"0123456789", query="overwrite=true")
    return Probe(cases, after)


def probe_dbfs(ctx) -> Probe:
    base = "/api/2.0/dbfs"
    folder = ctx.target("dbfs_dir")
    path = lambda: f"{folder}/{ctx.unique('f')}.txt"
    # Databricks answers an oversized block MAX_BLOCK_SIZE_EXCEEDED, naming the limit, not the field.
    content_extra = [Mutation("not base64", "not base64!!"), Mutation("over 1 MiB decoded", b64(b"x" * (MIB + 1)), REJECT, False)]
    cases = standard(ctx, "POST", f"{base}/put", lambda: {"path": path(), "contents": b64(b"hello"), "overwrite": True}, fields_from("", sdk_files.DbfsAPI.put), extra={"contents": content_extra})
    cases += standard(ctx, "POST", f"{base}/create", lambda: {"path": path(), "overwrite": True}, fields_from("", sdk_files.DbfsAPI.create))
    handle = lambda: {"handle": ctx.ref("dbfs_handle"), "data": b64(b"block")}
    cases += standard(ctx, "POST", f"{base}/add-block", handle, fields_from("", sdk_files.DbfsAPI.add_block),
                      extra={"data": [Mutation("not base64", "not base64!!"), Mutation("over 1 MiB decoded", b64(b"x" * (MIB + 1)), REJECT, False)], "handle": [Mutation("a handle never issued", 987654321, REJECT, False)]})
    cases += standard(ctx, "POST", f"{base}/close", lambda: {"handle": 987654321}, fields_from("", sdk_files.DbfsAPI.close), unknown=False)
    cases += standard(ctx, "POST", f"{base}/mkdirs", lambda: {"path": path()}, fields_from("", sdk_files.DbfsAPI.mkdirs))
    cases += standard(ctx, "POST", f"{base}/move", lambda: {"source_path": ctx.ref("dbfs_move_source"), "destination_path": path()}, fields_from("", sdk_files.DbfsAPI.move), unknown=False)
    cases += standard(ctx, "POST", f"{base}/delete", lambda: {"path": f"{folder}/kiln-no-such-file", "recursive": False}, fields_from("", sdk_files.DbfsAPI.delete), unknown=False)
    for label, bad in (("dot-dot", "/tmp/../../etc/passwd"), ("encoded dot-dot", "/tmp/%2e%2e/%2e%2e/etc"), ("relative", "tmp/x"), ("other scheme", "s3://bucket/x"), ("empty", "")):
        cases.append(Case(route("POST", f"{base}/put"), "path", label, "POST", f"{base}/put", json.dumps({"path": bad, "contents": b64(b"x"), "overwrite": True}).encode(), headers={"Content-Type": "application/json"}))
    cases += query_cases(route("GET", f"{base}/read"), f"{base}/read", f"path={folder}/read.txt", {"offset": "offset", "length": "size", "path": "text"})
    cases += query_cases(route("GET", f"{base}/list"), f"{base}/list", "", {"path": "text"})
    cases += query_cases(route("GET", f"{base}/get-status"), f"{base}/get-status", "", {"path": "text"})
    ctx.quiet("POST", f"{base}/put", {"path": f"{folder}/read.txt", "contents": b64(b"0123456789"), "overwrite": True})

    def after(case: Case, answer):
        ctx.check("SDK dbfs.list", lambda: capped(ctx.sdk.dbfs.list(folder)))
        if case.path.endswith("/create") and answer and "handle" in answer:
            ctx.quiet("POST", f"{base}/close", {"handle": answer["handle"]})
        if case.path.endswith("/add-block") or case.path.endswith("/close"):
            ctx.reset("dbfs_handle")
        if case.path.endswith("/move"):
            ctx.reset("dbfs_move_source")

    return Probe(cases, after)


# --- secrets, workspace, workspace-conf ---------------------------------------------------------------


def probe_secrets(ctx) -> Probe:
    base = "/api/2.0/secrets"
    scope = ctx.target("scope")
    cases = standard(ctx, "POST", f"{base}/scopes/create", lambda: {"scope": ctx.unique("probe-scope"), "initial_manage_principal": "users", "scope_backend_type": "DATABRICKS"},
                     fields_from("", workspace.SecretsAPI.create_scope), extra={"initial_manage_principal": [Mutation("a principal other than users", "kiln-nobody", REJECT, False)]})
    # A value over the limit is refused naming the limit ("a secret value may hold at most ..."), as on Databricks.
    value_extra = {"string_value": [Mutation("over 128 KiB", "x" * (128 * 1024 + 1), REJECT, False), Mutation("1 MiB", "x" * MIB, REJECT, False)],
                   "bytes_value": [Mutation("not base64", "not base64!!"), Mutation("over 128 KiB decoded", b64(b"x" * (128 * 1024 + 1)), REJECT, False)]}
    cases += standard(ctx, "POST", f"{base}/put", lambda: {"scope": scope, "key": ctx.unique("key"), "string_value": "v"}, fields_from("", workspace.SecretsAPI.put_secret), extra=value_extra)
    cases.append(Case(route("POST", f"{base}/put"), "string_value", "both string_value and bytes_value", "POST", f"{base}/put", json.dumps({"scope": scope, "key": "k", "string_value": "v", "bytes_value": b64(b"v")}).encode(), headers={"Content-Type": "application/json"}))
    cases += standard(ctx, "POST", f"{base}/acls/put", lambda: {"scope": scope, "principal": ctx.target("stable_user")["userName"], "permission": "READ"}, fields_from("", workspace.SecretsAPI.put_acl))
    cases += standard(ctx, "POST", f"{base}/delete", lambda: {"scope": scope, "key": "kiln-no-such-key"}, fields_from("", workspace.SecretsAPI.delete_secret), unknown=False)
    cases += standard(ctx, "POST", f"{base}/acls/delete", lambda: {"scope": scope, "principal": "kiln-nobody"}, fields_from("", workspace.SecretsAPI.delete_acl), unknown=False)
    cases += standard(ctx, "POST", f"{base}/scopes/delete", lambda: {"scope": "kiln-no-such-scope"}, fields_from("", workspace.SecretsAPI.delete_scope), unknown=False)
    for name, params in (("list", {"scope": "text"}), ("get", {"scope": "text", "key": "text"}), ("acls/list", {"scope": "text"}), ("acls/get", {"scope": "text", "principal": "text"})):
        cases += query_cases(route("GET", f"{base}/{name}"), f"{base}/{name}", f"scope={scope}&key=k&principal=users", params)

    def after(case: Case, answer):
        ctx.check("SDK secrets.list_scopes", lambda: capped(ctx.sdk.secrets.list_scopes()))
        ctx.check("SDK secrets.list_secrets", lambda: capped(ctx.sdk.secrets.list_secrets(scope)))
        ctx.check("SDK secrets.list_acls", lambda: capped(ctx.sdk.secrets.list_acls(scope)))
        body = body_of(case)
        if case.path.endswith("/scopes/create") and isinstance(body.get("scope"), str):
            ctx.quiet("POST", f"{base}/scopes/delete", {"scope": body["scope"]})

    return Probe(cases, after)


def probe_workspace(ctx) -> Probe:
    base = "/api/2.0/workspace"
    folder = ctx.target("folder")
    new_path = lambda: f"{folder}/{ctx.unique('nb')}"
    cases = standard(ctx, "POST", f"{base}/import", lambda: {"path": new_path(), "content": b64(b"print(1)\n"), "format": "SOURCE", "language": "PYTHON", "overwrite": True},
                     fields_from("", workspace.WorkspaceAPI.import_), extra={"content": [Mutation("not base64", "not base64!!"), Mutation("over 10 MiB decoded", b64(b"x" * (10 * MIB + 1)))]})
    cases += standard(ctx, "POST", f"{base}/mkdirs", lambda: {"path": new_path()}, fields_from("", workspace.WorkspaceAPI.mkdirs))
    cases += standard(ctx, "POST", f"{base}/delete", lambda: {"path": f"{folder}/kiln-no-such-object", "recursive": False}, fields_from("", workspace.WorkspaceAPI.delete), unknown=False)
    for label, bad in (("relative", "Shared/x"), ("dot-dot", "/Shared/../../etc"), ("only a slash", "/"), ("empty", ""), ("trailing slash", f"{folder}/x/")):
        for name in ("import", "mkdirs"):
            body = {"path": bad, "content": b64(b"1"), "format": "SOURCE", "language": "PYTHON"} if name == "import" else {"path": bad}
            # mkdirs of "/" (which exists) is the idempotent no-op it is on Databricks.
            either = label == "trailing slash" or (label == "only a slash" and name == "mkdirs")
            cases.append(Case(route("POST", f"{base}/{name}"), "path", label, "POST", f"{base}/{name}", json.dumps(body).encode(), expect=EITHER if either else REJECT, headers={"Content-Type": "application/json"}))
    cases += query_cases(route("GET", f"{base}/list"), f"{base}/list", f"path={folder}", {"notebooks_modified_after": "time", "path": "text"})
    cases += query_cases(route("GET", f"{base}/get-status"), f"{base}/get-status", "", {"path": "text"})
    cases += query_cases(route("GET", f"{base}/export"), f"{base}/export", f"path={folder}/kiln-no-such", {"format": "enum", "direct_download": "bool"})

    def after(case: Case, answer):
        ctx.check("SDK workspace.list", lambda: capped(ctx.sdk.workspace.list(folder)))
        body = body_of(case)
        if isinstance(body.get("path"), str) and body["path"].startswith(folder + "/"):
            ctx.check("SDK workspace.get_status", lambda: ctx.sdk.workspace.get_status(body["path"]), allow_not_found=True)
            ctx.quiet("POST", f"{base}/delete", {"path": body["path"], "recursive": True})

    return Probe(cases, after)


def probe_workspace_conf(ctx) -> Probe:
    path = "/api/2.0/workspace-conf"
    headers = {"Content-Type": "application/json"}

    def case(label: str, body: Any, expect: str = REJECT, names: Optional[str] = None, key: str = "maxTokenLifetimeDays") -> Case:
        return Case(route("PATCH", path), key, label, "PATCH", path, json.dumps(body).encode(), expect=expect, names=names, headers=headers)

    cases = [case("valid", {"maxTokenLifetimeDays": "90"}, ACCEPT)]
    for key, good in (("maxTokenLifetimeDays", "90"), ("enableTokensConfig", "true")):
        for label, value in (("number", 90), ("bool", True), ("object", {"a": "b"}), ("array", ["90"])):
            cases.append(case(f"wrong type: {label}", {key: value}, names=key, key=key))
        cases.append(case("NUL", {key: good + "\u0000"}, names=key, key=key))
        cases.append(case("1 MiB value", {key: "9" * MIB}, names=key, key=key))
    for label, value in (("negative", "-1"), ("zero", "0"), ("non-numeric", "abc"), ("1e300", "1e300"), ("int64 max", str(INT64_MAX)), ("beyond int64", "99999999999999999999"), ("fraction", "1.5")):
        cases.append(case(label, {"maxTokenLifetimeDays": value}, names="maxTokenLifetimeDays"))
    # Any lifetime the policy admits must still let tokens be made and read (u32 max passes the check).
    cases.append(case("u32 max days", {"maxTokenLifetimeDays": "4294967295"}, EITHER))
    cases.append(case("not true or false", {"enableTokensConfig": "maybe"}, names="enableTokensConfig", key="enableTokensConfig"))
    cases.append(case("unknown key", {"kilnNoSuchKey": "1"}, key="kilnNoSuchKey"))
    cases.append(case("unknown key with NUL", {"a\u0000b": "1"}, key="(key)"))
    cases.append(case("10,000 unknown keys", {f"k{i}": "1" for i in range(10_000)}, key="(keys)"))
    cases += body_cases(route("PATCH", path), "PATCH", path, {"maxTokenLifetimeDays": "90"}, [])
    cases.append(wrong_method_case(route("PATCH", path), "PATCH", path, "POST"))
    cases += query_cases(route("GET", path), path, "", {"keys": "text"})

    def after(case: Case, answer):
        ctx.check("SDK workspace_conf.get_status", lambda: ctx.sdk.workspace_conf.get_status(keys="maxTokenLifetimeDays,enableTokensConfig"))

        def token_round_trip():
            created = ctx.sdk.tokens.create(comment="probe", lifetime_seconds=3600)
            ctx.sdk.tokens.delete(created.token_info.token_id)

        ctx.check("SDK tokens.create under the new policy", token_round_trip)
        ctx.quiet("PATCH", path, {"maxTokenLifetimeDays": "", "enableTokensConfig": "true"})

    return Probe(cases, after)


# --- notification destinations -------------------------------------------------------------------------


def probe_notification_destinations(ctx) -> Probe:
    collection = "/api/2.0/notification-destinations"
    baseline = lambda: {"display_name": ctx.unique("probe-dest"), "config": {"generic_webhook": {"url": "https://example.com/hook", "username": "u", "password": "p"}}}
    fields = fields_from("", settings.NotificationDestinationsAPI.create) + fields_from("config.", settings.Config, only=("generic_webhook",)) + fields_from("config.generic_webhook.", settings.GenericWebhookConfig)
    extra = {"config.generic_webhook.url": [Mutation("not a URL", "not a url"), Mutation("another scheme", "ftp://example.com/x"), Mutation("1 MiB URL", "https://example.com/" + "x" * MIB)],
             "config": [Mutation("a destination type Kiln does not send to", {"slack": {"url": "https://hooks.slack.com/x"}}, REJECT, False)]}
    cases = standard(ctx, "POST", collection, baseline, fields, extra=extra, nested_unknown=("config.generic_webhook",))
    cases += standard(ctx, "PATCH", f"{collection}/{ctx.ref('destination')}", baseline, fields, extra=extra, label=f"{collection}/{{id}}")
    cases += query_cases(route("GET", collection), collection, "", sdk_query_params(settings.NotificationDestinationsAPI.list))
    for method, body in (("GET", None), ("PATCH", baseline()), ("DELETE", None)):
        cases += path_cases(route(method, f"{collection}/{{id}}"), method, collection + "/{}", body)

    def after(case: Case, answer):
        destination_id = (answer or {}).get("id") if case.method == "POST" else ctx.target("destination")
        if destination_id:
            ctx.check("SDK notification_destinations.get", lambda: ctx.sdk.notification_destinations.get(destination_id), allow_not_found=True)
        ctx.check("SDK notification_destinations.list", lambda: capped(ctx.sdk.notification_destinations.list()))
        if case.method == "POST" and destination_id:
            ctx.quiet("DELETE", f"{collection}/{destination_id}")
        else:
            ctx.reset("destination")

    return Probe(cases, after)


PROBES: dict[str, Callable] = {
    "scim-users": probe_scim_users,
    "scim-groups": probe_scim_groups,
    "scim-service-principals": probe_scim_service_principals,
    "tokens": probe_tokens,
    "sp-secrets": probe_sp_secrets,
    "permissions": probe_permissions,
    "uc-catalogs": probe_uc_catalogs,
    "uc-schemas": probe_uc_schemas,
    "uc-volumes": probe_uc_volumes,
    "uc-functions": probe_uc_functions,
    "uc-grants-owners": probe_uc_grants_and_owners,
    "warehouses": probe_warehouses,
    "statements": probe_statements,
    "queries": probe_queries,
    "files": probe_files,
    "dbfs": probe_dbfs,
    "secrets": probe_secrets,
    "workspace": probe_workspace,
    "workspace-conf": probe_workspace_conf,
    "notification-destinations": probe_notification_destinations,
}
