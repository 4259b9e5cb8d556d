"""The generator behind test_hardening_inputs.py: field kinds read from the official SDK, the
bad values each kind gets, and how a case's request is built and its answer judged.

The SDK is the ground truth for field names and types: `sdk_fields(WorkspaceClient method or
SDK dataclass)` reads the wire keys a method (or `as_dict`) writes and the Python type of
each, and `field_mutations` derives the bad values from that type:

1. a wrong JSON type, and null for a field the SDK requires;
2. an unknown enum value where the SDK declares an Enum;
3. numbers out of range (negative, the int64 extremes, 1e300) for durations, lifetimes,
   timeouts, limits and counts;
4. control characters in names, ids, keys and paths;
5. a 1 MiB value in a name-like field;
and `body_mutations` the whole-body shapes (6: deep nesting, 7: trailing garbage, arrays and
scalars where the object belongs, invalid UTF-8), `query_mutations` and `path_mutations` the
query strings and path parameters (8).

A case expects "reject" (a 4xx in the route group's error shape, naming the field for 1-5),
"accept" (a 2xx: unknown fields must be ignored, as Databricks does), or "either" (no 5xx, no
hang; if accepted, what was stored must read back through the SDK).
"""

from __future__ import annotations

import copy
import dataclasses
import enum
import inspect
import json
import re
import typing
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

import requests

MIB = 1 << 20
INT64_MAX = 2**63 - 1
INT64_MIN = -(2**63)
DEEP = 10_000
# serde_json refuses nesting beyond 128 levels; a value just under that is accepted by the
# parser and must still read back once stored inside a larger document.
NEAR_LIMIT_DEPTH = 120
UNKNOWN_ENUM = "KILN_NOT_A_VALUE"
SCIM_ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"

REJECT, ACCEPT, EITHER = "reject", "accept", "either"

# Field names whose numbers are durations, lifetimes, timeouts, limits, sizes or counts:
# negative values and the int64 extremes are out of range for them.
BOUNDED_INT = re.compile(r"(seconds|minutes|mins|millis|timeout|lifetime|limit|^max_|^min_|num_|size|count|concurrency|interval|retries|offset|length|days|hours|workers|^handle$)")
ID_INT = re.compile(r"(^|_)id$")
TIME_INT = re.compile(r"(^|_)(start_time|end_time|time_from|time_to|timestamp)|_after$|^start_time$|^end_time$")
# String fields that name or identify something: control characters and 1 MiB values are
# refused there (free text such as comments and descriptions may hold newlines).
NAME_LIKE = re.compile(r"(name|^id$|_id$|Id$|^key$|_key$|scope|principal|path|owner|^value$|userName|^op$|^type$|language|format|url|email)", re.I)


# --- field kinds from the SDK ----------------------------------------------------------------


@dataclass(frozen=True)
class Kind:
    """A field's JSON kind: str, int, float, bool, enum, object, list, map or any."""

    name: str
    required: bool = False
    element: Optional["Kind"] = None
    cls: Any = None
    output_only: bool = False

    def enum_values(self) -> list[str]:
        return [member.value for member in self.cls] if self.name == "enum" else []


def kind_of(hint, required: bool = False) -> Kind:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is typing.Union:
        inner = [a for a in args if a is not type(None)]
        return kind_of(inner[0], required) if len(inner) == 1 else Kind("any", required)
    if origin in (list, typing.List):
        return Kind("list", required, element=kind_of(args[0]) if args else Kind("any"))
    if origin in (dict, typing.Dict):
        return Kind("map", required, element=kind_of(args[1]) if len(args) == 2 else Kind("any"))
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        return Kind("enum", required, cls=hint)
    if dataclasses.is_dataclass(hint):
        return Kind("object", required, cls=hint)
    simple = {str: "str", int: "int", float: "float", bool: "bool"}
    return Kind(simple.get(hint, "any"), required)


_ASSIGNMENT = re.compile(r'\b(body|query)\["([^"]+)"\]\s*=\s*(.+)')


def _attribute(rhs: str) -> str:
    loop = re.search(r"for \w+ in (?:self\.)?(\w+)", rhs)
    if loop:
        return loop.group(1)
    return re.match(r"(?:self\.)?(\w+)", rhs).group(1)


def sdk_fields(target, where: str = "body") -> dict[str, Kind]:
    """`{wire key: Kind}` of an SDK API method (the keys it writes into `body` or `query`) or
    of an SDK dataclass (the keys its `as_dict` writes)."""
    if dataclasses.is_dataclass(target):
        source = inspect.getsource(target.as_dict)
        hints = typing.get_type_hints(target)
        required = {f.name for f in dataclasses.fields(target) if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING}
    else:
        source = inspect.getsource(target)
        hints = typing.get_type_hints(target)
        required = {name for name, p in inspect.signature(target).parameters.items() if p.default is inspect.Parameter.empty and name != "self"}
    # The SDK documents fields the server fills in as "[Output-Only]"; a server may ignore them.
    output_only = set(re.findall(r"^    (\w+): [^\n]*\n    \"\"\"\[Output-Only\]", inspect.getsource(target), re.M)) if dataclasses.is_dataclass(target) else set()
    fields: dict[str, Kind] = {}
    for kind, key, rhs in _ASSIGNMENT.findall(source):
        attribute = _attribute(rhs)
        if kind == where and attribute in hints:
            fields[key] = dataclasses.replace(kind_of(hints[attribute], attribute in required), output_only=attribute in output_only)
    return fields


# --- mutations --------------------------------------------------------------------------------


@dataclass
class Mutation:
    label: str
    value: Any
    expect: str = REJECT
    names_field: bool = True


def _wrong_element(kind: Kind):
    return {"str": 5, "int": "abc", "float": "abc", "bool": "yes", "enum": 7, "object": "x", "list": "x", "map": "x"}.get(kind.name, None)


def wrong_types(kind: Kind) -> list[tuple[str, Any]]:
    """Two to four wrong JSON types per kind: between them every JSON type stands in for every
    other somewhere (one more per field would mostly take the same path through a parser)."""
    if kind.name == "str":
        return [("number", 12345), ("bool", True), ("object", {"a": "b"})]
    if kind.name == "int":
        return [("string", "abc"), ("bool", True), ("fraction", 1.5), ("object", {"a": 1})]
    if kind.name == "float":
        return [("string", "abc"), ("array", [1.0])]
    if kind.name == "bool":
        return [("string", "yes"), ("number", 1)]
    if kind.name == "enum":
        return [("object", {"a": "b"}), ("array", [kind.enum_values()[0] if kind.enum_values() else "x"])]
    if kind.name == "object":
        return [("string", "x"), ("array", [{}])]
    if kind.name == "list":
        wrong = [("string", "x"), ("object", {"a": 1})]
        element = _wrong_element(kind.element) if kind.element else None
        if element is not None:
            wrong.append((f"list element of the wrong type ({type(element).__name__} for {kind.element.name})", [element]))
        return wrong
    if kind.name == "map":
        wrong = [("string", "x"), ("array", ["x"])]
        if kind.element and kind.element.name == "str":
            wrong.append(("map value: object", {"k": {"a": "b"}}))
        return wrong
    return []


# Fields that name an object that must exist: a bad value there is answered "X does not
# exist", naming the object rather than the field, as Databricks does.
REFERENCE = re.compile(r"^(catalog_name|schema_name|user_name|group_name|service_principal_name|principal|cluster_id|clusterId|contextId|commandId|warehouse_id|"
                       r"existing_cluster_id|job_id|run_id|application_id|owner|owner_username|scope|token_id|single_user_name|source_path|query_id)$")
# SCIM (RFC 7644 3.3): read-only attributes in a request SHALL be ignored.
SCIM_READ_ONLY = ("id", "meta")


def field_mutations(key: str, kind: Kind, base: Any = None) -> list[Mutation]:
    """The bad values of field `key` (its last path segment) of `kind`; `base` is the
    baseline's value (control characters and the oversized value extend it, so values that
    must be unique stay unique)."""
    out = [Mutation(f"wrong type: {label}", value) for label, value in wrong_types(kind)]
    if kind.name == "enum":
        # Proto3 JSON lets a server take an enum's number for its name; Databricks may do so.
        out.append(Mutation("enum given as a number", 7, EITHER, False))
        out.append(Mutation("unknown enum value", UNKNOWN_ENUM))
    if kind.name == "list" and kind.element and kind.element.name == "enum":
        out.append(Mutation("unknown enum value in list", [UNKNOWN_ENUM]))
    if kind.required:
        out.append(Mutation("null for a required field", None))
    if kind.name == "int":
        out += int_mutations(key)
    if kind.name == "str" and NAME_LIKE.search(key):
        out += text_mutations(base if isinstance(base, str) else "kiln")
    if REFERENCE.match(key):
        for mutation in out:
            if mutation.label.startswith(("control character", "newline", "1 MiB")):
                mutation.names_field = False
    if kind.output_only:
        for mutation in out:
            mutation.expect, mutation.names_field = EITHER, False
    return out


def int_mutations(key: str) -> list[Mutation]:
    if ID_INT.search(key):
        # A missing object is 404/400 naming the object, not necessarily the field.
        return [Mutation(f"id {value}", value, REJECT, False) for value in (-1, INT64_MAX, INT64_MIN)] + [Mutation("1e300", 1e300)]
    if TIME_INT.search(key):
        return [Mutation(f"timestamp {value}", value, EITHER, False) for value in (-1, INT64_MAX, INT64_MIN)] + [Mutation("1e300", 1e300)]
    if BOUNDED_INT.search(key):
        return [Mutation("negative (-1)", -1), Mutation("int64 max", INT64_MAX), Mutation("int64 min", INT64_MIN), Mutation("1e300", 1e300)]
    return [Mutation("int64 max", INT64_MAX, EITHER, False), Mutation("int64 min", INT64_MIN, EITHER, False), Mutation("1e300", 1e300)]


def text_mutations(base: str) -> list[Mutation]:
    return [
        Mutation("control character NUL", base + "\u0000"),
        Mutation("newline", base + "\nb"),
        Mutation("1 MiB value", base + "x" * MIB),
    ]


def deep_array(depth: int) -> str:
    return "[" * depth + "]" * depth


# --- requests ---------------------------------------------------------------------------------


def set_path(document: Any, path: list, value: Any) -> Any:
    """A deep copy of `document` with `value` at `path` (keys and list indices); missing
    objects on the way are created."""
    result = copy.deepcopy(document)
    if not path:
        return value
    node = result
    for step, following in zip(path, path[1:]):
        if isinstance(step, int):
            node = node[step]
        else:
            if not isinstance(node.get(step), (dict, list)):
                node[step] = [] if isinstance(following, int) else {}
            node = node[step]
    node[path[-1]] = value
    return result


def parse_path(text: str) -> list:
    """`tasks[0].condition_task.op` -> `["tasks", 0, "condition_task", "op"]`."""
    steps: list = []
    for part in text.split("."):
        name, *indices = re.split(r"\[(\d+)\]", part)
        if name:
            steps.append(name)
        steps += [int(i) for i in indices if i]
    return steps


def last_key(text: str) -> str:
    return [step for step in parse_path(text) if isinstance(step, str)][-1]


_RAW = "__kiln_probe_raw__"


def with_raw(document: Any, path: list, raw_json: str) -> bytes:
    """`document` as JSON with the raw JSON text `raw_json` at `path` (for nesting deeper than
    Python's json module writes)."""
    return json.dumps(set_path(document, path, _RAW)).replace(f'"{_RAW}"', raw_json).encode()


@dataclass
class Case:
    route: str                     # "POST /api/2.2/jobs/create"
    field: str                     # "tasks[0].timeout_seconds", "(body)", "?limit", "{id}"
    mutation: str
    method: str
    path: str
    body: Optional[bytes] = None
    query: Optional[str] = None
    expect: str = REJECT
    names: Optional[str] = None    # a key the error message must contain
    headers: dict = field(default_factory=dict)

    def describe(self) -> str:
        return f"{self.route} {self.field} {self.mutation}"


def body_cases(route: str, method: str, path: str, baseline: dict, freeform: list[str]) -> list[Case]:
    """Whole-body mutations (6, 7) of a route whose valid body is `baseline`; `freeform` are
    fields that take any JSON, where deep values are tried."""
    text = json.dumps(baseline)
    json_headers = {"Content-Type": "application/json"}

    def case(label: str, body: bytes, expect: str = REJECT) -> Case:
        return Case(route, "(body)", label, method, path, body, expect=expect, headers=json_headers)

    cases = [
        case("trailing garbage after the object", (text + " xyz").encode()),
        case("a second object after the first", (text + " {}").encode()),
        case("a JSON array where the object belongs", f"[{text}]".encode()),
        case("a JSON string where the object belongs", b'"text"'),
        case("a JSON number where the object belongs", b"42"),
        case("JSON null where the object belongs", b"null"),
        case("truncated JSON", text[:-1].encode()),
        case("invalid UTF-8 in an unknown field", text.replace("}", ', "kiln_probe": "\xff"}', 1).encode("latin-1")),
        case("invalid UTF-8 bytes as the body", b"\xff\xfe\xfd"),
        case(f"{DEEP} nested arrays as the body", deep_array(DEEP).encode()),
        case(f"{DEEP} nested objects under an unknown key as the body", ('{"a":' * DEEP + "1" + "}" * DEEP).encode()),
    ]
    first_string = re.search(r'": "', text)
    if first_string:
        at = first_string.end()
        cases.append(case("invalid UTF-8 in a known string field", (text[:at] + "\xff\xfe" + text[at:]).encode("latin-1")))
    for name in freeform:
        steps = parse_path(name)
        cases.append(Case(route, name, f"{DEEP} nested arrays in a free-form field", method, path, with_raw(baseline, steps, deep_array(DEEP)), headers=json_headers))
        cases.append(Case(route, name, f"{NEAR_LIMIT_DEPTH} nested arrays in a free-form field", method, path, with_raw(baseline, steps, deep_array(NEAR_LIMIT_DEPTH)), expect=EITHER, headers=json_headers))
    return cases


def wrong_method_case(route: str, method: str, path: str, unserved: str) -> Case:
    """The route's path with a method it does not serve: 405 in the group's error shape."""
    return Case(route, "(method)", f"{unserved} on a {method} route", unserved, path, b"{}", headers={"Content-Type": "application/json"})


QUERY_VALUES = {
    # kind: [(label, raw value already percent-encoded, expect)]
    "size": [("non-numeric", "abc", REJECT), ("negative", "-1", REJECT), ("int64 min", str(INT64_MIN), REJECT), ("int64 max", str(INT64_MAX), EITHER), ("beyond int64", "99999999999999999999", REJECT), ("1e300", "1e300", REJECT), ("fraction", "1.5", REJECT), ("NUL", "%00", REJECT), ("empty", "", EITHER)],
    "offset": [("non-numeric", "abc", REJECT), ("negative", "-1", REJECT), ("int64 max", str(INT64_MAX), EITHER), ("beyond int64", "99999999999999999999", REJECT), ("1e300", "1e300", REJECT)],
    "id": [("non-numeric", "abc", REJECT), ("negative", "-1", EITHER), ("beyond int64", "99999999999999999999", REJECT), ("1e300", "1e300", REJECT), ("NUL", "%00", REJECT)],
    "time": [("non-numeric", "abc", REJECT), ("negative", "-1", EITHER), ("int64 max", str(INT64_MAX), EITHER), ("int64 min", str(INT64_MIN), EITHER), ("beyond int64", "99999999999999999999", REJECT)],
    "bool": [("not a bool", "yes", REJECT), ("number", "2", REJECT), ("empty", "", EITHER)],
    "token": [("garbage", "not-a-token%21%21", REJECT), ("10 KB garbage", "A" * 10240, REJECT), ("NUL", "%00", REJECT), ("invalid UTF-8", "%FF%FE", REJECT), ("empty", "", EITHER)],
    "text": [("NUL", "%00", EITHER), ("10 KB", "a" * 10240, EITHER), ("invalid UTF-8", "%FF%FE", EITHER)],
    "enum": [("unknown value", UNKNOWN_ENUM, REJECT), ("NUL", "%00", REJECT)],
    # SCIM (RFC 7644 3.4.2.4): a startIndex below 1 is read as 1 and a negative count as 0, so
    # only values that are not integers at all are errors.
    "scim_number": [("non-numeric", "abc", REJECT), ("negative", "-1", EITHER), ("int64 max", str(INT64_MAX), EITHER), ("beyond int64", "99999999999999999999", EITHER), ("fraction", "1.5", REJECT)],
    "scim_filter": [("malformed", "userName%20eq", REJECT), ("unbalanced parentheses", "%28%28%28userName%20eq%20%22a%22", REJECT), ("unknown operator", "userName%20zz%20%22a%22", REJECT), ("NUL", "%00", REJECT), ("10 KB", "userName%20eq%20%22" + "a" * 10240 + "%22", EITHER)],
}


def query_kind(name: str, kind: Kind) -> str:
    """The QUERY_VALUES kind of a query parameter the SDK declares."""
    if kind.name == "bool":
        return "bool"
    if kind.name == "enum" or (kind.name == "list" and kind.element and kind.element.name == "enum"):
        return "enum"
    if kind.name == "int":
        if ID_INT.search(name):
            return "id"
        if TIME_INT.search(name) or name.endswith(("_ms", "_after")):
            return "time"
        if "offset" in name:
            return "offset"
        return "size"
    if name.endswith("page_token"):
        return "token"
    return "text"


def sdk_query_params(method, skip: tuple = (), override: Optional[dict] = None) -> dict[str, str]:
    """{parameter: QUERY_VALUES kind} of an SDK list method's query parameters."""
    params = {name: query_kind(name, kind) for name, kind in sdk_fields(method, "query").items() if name not in skip}
    params.update(override or {})
    return params


def query_cases(route: str, path: str, base_query: str, params: dict[str, str]) -> list[Case]:
    """Query-string mutations (8) of a GET route: each parameter of `params` ({name: kind of
    QUERY_VALUES}) replaced in turn; `base_query` carries what the route needs besides."""
    cases = []
    for name, kind in params.items():
        for label, value, expect in QUERY_VALUES[kind]:
            query = "&".join(part for part in (base_query, f"{name}={value}") if part)
            cases.append(Case(route, f"?{name}", label, "GET", path, query=query, expect=expect))
    if params:
        first = next(iter(params))
        twice = f"{first}=1&{first}=2"
        cases.append(Case(route, f"?{first}", "given twice", "GET", path, query="&".join(p for p in (base_query, twice) if p), expect=EITHER))
    return cases


PATH_VALUES = [
    ("NUL", "%00"),
    ("dot-dot", ".."),
    ("encoded dot-dot slash", "%2e%2e%2f%2e%2e"),
    ("10 KB id", "9" * 10240),
    ("non-numeric", "abc"),
    ("beyond int64", "99999999999999999999"),
    ("invalid UTF-8", "%FF%FE"),
    ("control character", "a%07b"),
]


def path_cases(route: str, method: str, template: str, body: Optional[dict]) -> list[Case]:
    """`template` holds one `{}` where the bad path parameter goes."""
    encoded = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json"} if body is not None else {}
    return [Case(route, "{path parameter}", label, method, template.format(value), encoded, headers=headers) for label, value in PATH_VALUES]


# --- judging an answer ------------------------------------------------------------------------


def error_group(path: str) -> str:
    if path.startswith("/api/2.0/preview/scim/v2/"):
        return "scim"
    if path.startswith("/api/1.2/"):
        return "1.2"
    return "rest"


def error_message(response: requests.Response, group: str) -> tuple[Optional[str], Optional[str]]:
    """(message, problem): the error's message, or what is wrong with the body's shape."""
    content_type = response.headers.get("Content-Type", "")
    if not response.content:
        return None, "empty body"
    if not content_type.startswith("application/json"):
        return None, f"Content-Type {content_type or 'missing'}, not JSON"
    try:
        body = response.json()
    except ValueError:
        return None, "body is not JSON"
    if not isinstance(body, dict):
        return None, "body is not a JSON object"
    if group == "scim":
        if SCIM_ERROR_SCHEMA not in (body.get("schemas") or []) or not isinstance(body.get("detail"), str) or body.get("status") != str(response.status_code):
            return body.get("detail") or body.get("message"), "not a SCIM error (schemas/detail/status)"
        return body["detail"], None
    if group == "1.2":
        if not isinstance(body.get("error"), str):
            return body.get("message"), "not a 1.2 error ({\"error\": ...})"
        return body["error"], None
    if not (isinstance(body.get("error_code"), str) and body["error_code"] and isinstance(body.get("message"), str)):
        return body.get("message") or body.get("detail") or body.get("error"), "not {error_code, message}"
    return body["message"], None


_SECRET_FIELDS = re.compile(r'"(token_value|secret|client_secret|access_token|password)"\s*:\s*"[^"]*"')
_SECRET_VALUES = re.compile(r"\b(dapi|dose)[0-9a-f]{16,}")


def redact(text: str) -> str:
    """Reports never show a token or secret value."""
    return _SECRET_VALUES.sub(r"\1<redacted>", _SECRET_FIELDS.sub(r'"\1":"<redacted>"', text))


def short(response: requests.Response) -> str:
    text = redact(response.content[:400].decode("utf-8", "replace"))[:200].replace("\n", "\\n")
    return f"{response.status_code} {text}"


def judge(case: Case, response: requests.Response) -> list[tuple[str, str]]:
    """[(root-cause tag, line)] for what is wrong with `response` to `case`; empty when fine."""
    status = response.status_code
    line = f"{case.describe()} -> {short(response)}"
    if status >= 500:
        return [("5xx", line)]
    if 200 <= status < 300:
        return [("accepted", line)] if case.expect == REJECT else []
    if case.expect == ACCEPT:
        return [("refused a valid body", line)]
    if not 400 <= status < 500:
        return [(f"status {status}", line)]
    message, problem = error_message(response, error_group(case.path))
    if problem:
        return [(f"error shape: {problem}", line)]
    if message and len(message) > 16384:
        return [("error message echoes the oversized input", f"{case.describe()} -> {status} message of {len(message)} characters")]
    if case.expect == REJECT and case.names and case.names.lower() not in (message or "").lower():
        return [("message does not name the field", line)]
    return []


def send(session: requests.Session, host: str, case: Case, timeout: float = 10.0) -> requests.Response:
    """Sends the case's path as it is: requests would resolve `..` segments before sending."""
    url = host + case.path + (f"?{case.query}" if case.query is not None else "")
    prepared = session.prepare_request(requests.Request(case.method, host + "/", data=case.body, headers=case.headers))
    prepared.url = url
    return session.send(prepared, timeout=timeout)


# --- building a route's cases -------------------------------------------------------------------


@dataclass
class Field:
    """A field to mutate: its dotted path in the body and its kind."""

    path: str
    kind: Kind


def fields_from(prefix: str, target, skip: tuple = (), only: tuple = ()) -> list[Field]:
    out = []
    for key, kind in sdk_fields(target).items():
        if key in skip or (only and key not in only):
            continue
        out.append(Field(f"{prefix}{key}", kind))
    return out


def field_cases(route: str, method: str, path: str, baseline: Callable[[], dict], fields: list[Field], extra: Optional[dict[str, list[Mutation]]] = None) -> list[Case]:
    """Mutations 1-5 of each field, each applied to a fresh baseline body."""
    cases = []
    headers = {"Content-Type": "application/json"}
    extra = extra or {}
    for item in fields:
        steps = parse_path(item.path)
        key = last_key(item.path)
        base_value = _get(baseline(), steps)
        overrides = extra.get(item.path, [])
        # A route's own expectation for a value (e.g. max_retries -1 means "always") replaces
        # the generated one.
        generated = [m for m in field_mutations(key, item.kind, base_value) if not any(_same(m.value, o.value) for o in overrides)]
        for mutation in generated + overrides:
            body = set_path(baseline(), steps, mutation.value)
            cases.append(Case(route, item.path, mutation.label, method, path, json.dumps(body).encode(), expect=mutation.expect, names=key if mutation.names_field else None, headers=headers))
    for path_text, mutations in extra.items():
        if path_text in {f.path for f in fields}:
            continue
        steps = parse_path(path_text)
        for mutation in mutations:
            body = set_path(baseline(), steps, mutation.value)
            cases.append(Case(route, path_text, mutation.label, method, path, json.dumps(body).encode(), expect=mutation.expect, names=last_key(path_text) if mutation.names_field else None, headers=headers))
    return cases


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b


def unknown_field_cases(route: str, method: str, path: str, baseline: Callable[[], dict], nested: tuple = ()) -> list[Case]:
    """Positive cases: unknown fields on a valid body are ignored (as Databricks does)."""
    headers = {"Content-Type": "application/json"}
    cases = [
        Case(route, "kiln_probe_unknown", "unknown scalar field", method, path, json.dumps({**baseline(), "kiln_probe_unknown": 1}).encode(), expect=ACCEPT, headers=headers),
        Case(route, "kiln_probe_unknown", "unknown object field", method, path, json.dumps({**baseline(), "kiln_probe_unknown": {"a": [1, {"b": None}], "c": "d"}}).encode(), expect=ACCEPT, headers=headers),
    ]
    for prefix in nested:
        body = set_path(baseline(), parse_path(prefix) + ["kiln_probe_unknown"], "x")
        cases.append(Case(route, f"{prefix}.kiln_probe_unknown", "unknown nested field", method, path, json.dumps(body).encode(), expect=ACCEPT, headers=headers))
    return cases


def _get(document: Any, steps: list) -> Any:
    node = document
    for step in steps:
        try:
            node = node[step]
        except (KeyError, IndexError, TypeError):
            return None
    return node
