"""The HTTP layer under hostile or sloppy clients: declared and sent bodies over a route's
limit, stalled bodies, slowloris heads, idle keep-alive connections, connection floods, huge
headers and URIs, wrong methods, bad query strings and paths, malformed JSON, unknown routes,
and the error shape of each API family.

Requests go out on raw sockets so nothing normalizes them. Two dedicated servers:
`plain` has the default configuration; `tuned` sets the `[http]` timeouts and limits small
so the timing cases run in seconds:

    [http]
    header_read_timeout_secs = 2   # time to receive a whole request head
    body_read_timeout_secs = 2     # longest wait for the next piece of a body
    max_connections = 64           # connections beyond it are refused or wait
    max_header_bytes = 16384

and `idle_tuned` sets `header_read_timeout_secs = 3`: the wait for the next request head on a
keep-alive connection counts too, so an idle connection is closed after it.

Every response with a body has `Content-Type: application/json`; errors are
`{error_code, message}`, except under SCIM (the SCIM error schema) and `/api/1.2`
(`{"error": "..."}`).
"""

from __future__ import annotations

import base64
import json
import socket
import threading
import time
from typing import Optional

import pytest

import kilnlib
from hardening_common import (
    SCIM_ERROR_SCHEMA, Outcome, alive, connect, databricks_error, describe, exchange, is_json, parsed_json, read_response,
    request_head, wait_closed,
)

SCIM = kilnlib.SCIM
HEADER_READ_TIMEOUT = 2
BODY_READ_TIMEOUT = 2
IDLE_TIMEOUT = 3
MAX_CONNECTIONS = 64
MAX_HEADER_BYTES = 16 * 1024
# How late a timeout may fire: scheduling on a loaded 2-core machine, a debug build.
SLACK = 3
# A refusal that needs no body must come at once, not after any timeout.
PROMPT = 5

TUNED_CONFIG = f"""
[rate_limits]
enabled = false

[http]
header_read_timeout_secs = {HEADER_READ_TIMEOUT}
body_read_timeout_secs = {BODY_READ_TIMEOUT}
max_connections = {MAX_CONNECTIONS}
max_header_bytes = {MAX_HEADER_BYTES}
"""
# The idle test has a server of its own whose head timeout is the idle timeout under test.
IDLE_CONFIG = f"""
[rate_limits]
enabled = false

[http]
header_read_timeout_secs = {IDLE_TIMEOUT}
"""

VOLUME = ("main", "default", "hardening_http")
VOLUME_PATH = "/Volumes/" + "/".join(VOLUME)
JSON_BODY_LIMIT = 16 * 1024 * 1024


@pytest.fixture(scope="module")
def plain(launch_kiln):
    with launch_kiln() as running:
        body = {"catalog_name": VOLUME[0], "schema_name": VOLUME[1], "name": VOLUME[2], "volume_type": "MANAGED"}
        response = running.request("POST", "/api/2.1/unity-catalog/volumes", json=body)
        assert response.status_code == 200, response.text[:300]
        yield running


@pytest.fixture(scope="module")
def tuned(launch_kiln):
    with launch_kiln(config_toml=TUNED_CONFIG) as running:
        yield running


@pytest.fixture
def idle_tuned(launch_kiln):
    with launch_kiln(config_toml=IDLE_CONFIG) as running:
        yield running


# --- helpers --------------------------------------------------------------------------------


def call(server, method: str, target: str, body: bytes = b"", headers: Optional[dict] = None, token: bool = True, wait: float = 10) -> Outcome:
    """One request on its own connection, exactly as given."""
    all_headers = {"Connection": "close", **(headers or {})}
    if (body or method in ("POST", "PUT", "PATCH")) and "Transfer-Encoding" not in all_headers:
        all_headers.setdefault("Content-Length", str(len(body)))
    head = request_head(method, target, server.admin_token if token else None, all_headers)
    return exchange(server.host, head + body, wait)


def error_shape_problem(target: str, status: int, headers: dict, body: bytes) -> Optional[str]:
    """Why this error response is not in its API family's shape; None if it is."""
    if not body:
        return f"empty body ({describe(status, headers, body)})"
    parsed, problem = parsed_json(status, headers, body)
    if problem:
        return problem
    if target.startswith(SCIM + "/"):
        if not isinstance(parsed, dict) or SCIM_ERROR_SCHEMA not in (parsed.get("schemas") or []):
            return "not a SCIM error (schemas lacks the Error URN): " + describe(status, headers, body)
        if not isinstance(parsed.get("detail"), str) or parsed.get("status") != str(status):
            return "SCIM error without detail or with status not the string " + repr(str(status)) + ": " + describe(status, headers, body)
        return None
    if target.startswith("/api/1.2/"):
        if not isinstance(parsed, dict) or not isinstance(parsed.get("error"), str):
            return 'not {"error": "..."}: ' + describe(status, headers, body)
        return None
    return databricks_error(status, headers, body)


def require_error(outcome: Outcome, target: str, statuses, error_code: Optional[str] = None, within: Optional[float] = None) -> dict:
    """The exchange got a response with one of `statuses`, in its family's error shape,
    with `error_code` (Databricks shape only); returns the parsed body."""
    statuses = {statuses} if isinstance(statuses, int) else set(statuses)
    assert outcome.response is not None, f"{target[:100]}: expected HTTP {sorted(statuses)}, got {outcome.describe()}"
    response = outcome.response
    assert response.status in statuses, f"{target[:100]}: expected HTTP {sorted(statuses)}, got {response.describe()}"
    problem = error_shape_problem(target, response.status, response.headers, response.body)
    assert problem is None, f"{target[:100]}: {problem}"
    if within is not None:
        assert response.elapsed <= within, f"{target[:100]}: answered after {response.elapsed:.1f} s, expected within {within} s"
    parsed = json.loads(response.body)
    if error_code is not None:
        got = parsed.get("error_code")
        assert got == error_code, f"{target[:100]}: error_code {got!r}, expected {error_code!r}: {response.describe()}"
    return parsed


def require_json_if_body(outcome: Outcome, what: str) -> None:
    response = outcome.response
    if response is not None and response.body:
        assert is_json(response.headers.get("content-type")), f"{what}: {response.describe()}"


def require_alive(server) -> None:
    problem = alive(server)
    assert problem is None, f"server no longer serves after the case: {problem}; stderr:\n{server.stderr_tail(20)}"


def closed_or_error(outcome: Outcome, target: str, statuses, within: float) -> None:
    """Either an error response in the family's shape, or the server closed the
    connection; either way within `within` seconds."""
    if outcome.response is None:
        assert outcome.closed, f"{target[:100]}: {outcome.describe()} (expected a response or a close within {within} s)"
        assert outcome.elapsed <= within, f"{target[:100]}: closed only after {outcome.elapsed:.1f} s (limit {within} s)"
        return
    require_error(outcome, target, statuses, within=within)


# --- declared and sent bodies over the limit ------------------------------------------------

HUGE_DECLARED = 20_000_000_000

DECLARED_OVERSIZE_ROUTES = [
    ("POST", "/api/2.0/secrets/put"),
    ("POST", "/api/2.1/jobs/create"),
    ("POST", "/api/2.0/sql/statements"),
    ("POST", "/api/2.0/workspace/import"),
    ("POST", "/api/2.0/dbfs/put"),
    ("POST", SCIM + "/Users"),
    ("POST", "/api/1.2/contexts/create"),
]


@pytest.mark.parametrize("method,path", DECLARED_OVERSIZE_ROUTES, ids=[p for _, p in DECLARED_OVERSIZE_ROUTES])
def test_declared_body_over_the_limit_is_refused_before_reading(plain, method, path):
    outcome = call(plain, method, path, headers={"Content-Type": "application/json", "Content-Length": str(HUGE_DECLARED)}, wait=PROMPT + 5)
    require_error(outcome, path, 413, within=PROMPT)
    require_alive(plain)


def test_files_upload_declared_over_its_limit_is_refused_before_reading(plain):
    """20 GB declared (Databricks takes at most 5 GiB in one PUT) and no byte sent."""
    path = f"/api/2.0/fs/files{VOLUME_PATH}/declared-huge.bin"
    outcome = call(plain, "PUT", path + "?overwrite=true", headers={"Content-Type": "application/octet-stream", "Content-Length": str(HUGE_DECLARED)}, wait=PROMPT + 5)
    require_error(outcome, path, 413, within=PROMPT)
    require_alive(plain)


def test_body_over_the_limit_actually_sent_is_413(plain):
    value = "a" * (JSON_BODY_LIMIT + 1024 * 1024)
    body = json.dumps({"scope": "hardening", "key": "k", "string_value": value}).encode()
    outcome = call(plain, "POST", "/api/2.0/secrets/put", body, headers={"Content-Type": "application/json"}, wait=30)
    require_error(outcome, "/api/2.0/secrets/put", 413)
    require_alive(plain)


def test_chunked_body_over_the_limit_is_413(plain):
    """No Content-Length: the limit must hold for a streamed body too."""
    prefix = b'{"scope":"hardening","key":"k","string_value":"'
    piece = b"a" * (1024 * 1024)
    chunks = [prefix] + [piece] * (JSON_BODY_LIMIT // len(piece) + 2) + [b'"}']
    body = b"".join(b"%x\r\n" % len(c) + c + b"\r\n" for c in chunks) + b"0\r\n\r\n"
    outcome = call(plain, "POST", "/api/2.0/secrets/put", body, headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"}, wait=30)
    require_error(outcome, "/api/2.0/secrets/put", 413)
    require_alive(plain)


def test_scim_body_over_the_limit_is_a_scim_413(plain):
    body = json.dumps({"userName": "a" * (JSON_BODY_LIMIT + 1024)}).encode()
    outcome = call(plain, "POST", SCIM + "/Users", body, headers={"Content-Type": "application/scim+json"}, wait=30)
    require_error(outcome, SCIM + "/Users", 413)


# --- slow and stalled clients (tuned server) ------------------------------------------------


@pytest.mark.parametrize("path,method", [("/api/2.0/secrets/put", "POST"), (f"/api/2.0/fs/files{VOLUME_PATH}/stalled.bin?overwrite=true", "PUT")])
def test_stalled_body_is_answered_or_closed(tuned, path, method):
    """A body declared as 1,000 bytes of which 10 arrive: 408 or 400, or a close, within
    body_read_timeout + slack."""
    if method == "PUT":
        make_volume(tuned)
    head = request_head(method, path, tuned.admin_token, {"Content-Type": "application/json", "Content-Length": "1000"})
    started = time.monotonic()
    with connect(tuned.host) as sock:
        sock.sendall(head + b'{"scope":"')
        outcome = read_response(sock, started + BODY_READ_TIMEOUT + SLACK, started)
    closed_or_error(outcome, path.split("?")[0], (408, 400), BODY_READ_TIMEOUT + SLACK)
    require_alive(tuned)


def test_stalled_chunked_body_is_answered_or_closed(tuned):
    head = request_head("POST", "/api/2.0/secrets/put", tuned.admin_token, {"Content-Type": "application/json", "Transfer-Encoding": "chunked"})
    started = time.monotonic()
    with connect(tuned.host) as sock:
        sock.sendall(head + b"a\r\n{\"scope\":\"")
        outcome = read_response(sock, started + BODY_READ_TIMEOUT + SLACK, started)
    closed_or_error(outcome, "/api/2.0/secrets/put", (408, 400), BODY_READ_TIMEOUT + SLACK)


def early_bytes_problem(received: bytes) -> Optional[str]:
    """What a server may send before cutting a slow or silent client: nothing, or a 408/400
    whose body (if any) is JSON."""
    if not received:
        return None
    head = received.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    status_line = head.split("\r\n", 1)[0]
    if not status_line.startswith(("HTTP/1.1 408", "HTTP/1.1 400", "HTTP/1.0 408", "HTTP/1.0 400")):
        return f"sent {status_line!r}"
    body = received.split(b"\r\n\r\n", 1)[1] if b"\r\n\r\n" in received else b""
    if body and "application/json" not in head.lower():
        return f"sent a non-JSON body: {received[:200]!r}"
    return None


def test_slowloris_head_is_cut_off(tuned):
    """The head arrives one byte a second: closed (or 408) within header_read_timeout + slack
    of the first byte, however steadily bytes keep coming."""
    head = request_head("GET", SCIM + "/Me", tuned.admin_token, {"X-Padding": "p" * 64})
    limit = HEADER_READ_TIMEOUT + SLACK
    started = time.monotonic()
    cut_after, received = None, b""
    with connect(tuned.host) as sock:
        for index in range(len(head) - 4):
            try:
                sock.sendall(head[index:index + 1])
            except (BrokenPipeError, ConnectionResetError):
                cut_after = time.monotonic() - started
                break
            closed, received = wait_closed(sock, time.monotonic() + 1.0)
            if closed or received:
                cut_after = time.monotonic() - started
                break
            if time.monotonic() - started > limit + 2:
                break
    assert cut_after is not None, f"a head trickling at one byte a second was still being read after {time.monotonic() - started:.1f} s (limit {limit} s)"
    assert cut_after <= limit + 1, f"the slowloris connection was cut only after {cut_after:.1f} s (limit {limit} s)"
    problem = early_bytes_problem(received)
    assert problem is None, problem
    require_alive(tuned)


def test_silent_connection_is_closed(tuned):
    """A connection that never sends a byte is closed within header_read_timeout + slack."""
    limit = HEADER_READ_TIMEOUT + SLACK
    started = time.monotonic()
    with connect(tuned.host) as sock:
        closed, received = wait_closed(sock, started + limit)
    assert closed, f"a silent connection was still open after {limit} s"
    problem = early_bytes_problem(received)
    assert problem is None, problem


def test_idle_keep_alive_connection_is_closed(idle_tuned):
    head = request_head("GET", SCIM + "/Me", idle_tuned.admin_token)
    with connect(idle_tuned.host) as sock:
        sock.sendall(head)
        first = read_response(sock, time.monotonic() + 10)
        assert first.response is not None and first.response.status == 200, first.describe()
        # Still usable while idle for less than the timeout.
        time.sleep(1)
        sock.sendall(head)
        second = read_response(sock, time.monotonic() + 10)
        assert second.response is not None and second.response.status == 200, f"a keep-alive connection idle for 1 s: {second.describe()}"
        idle_since = time.monotonic()
        closed, received = wait_closed(sock, idle_since + IDLE_TIMEOUT + SLACK)
    assert closed, f"an idle keep-alive connection was still open after {IDLE_TIMEOUT + SLACK} s (header_read_timeout_secs = {IDLE_TIMEOUT})"


def test_connection_flood_does_not_lock_out_a_well_behaved_client(tuned):
    """max_connections + 50 connections opened and held idle: the server stays alive, and a
    new client is served once they close."""
    held: list[socket.socket] = []
    try:
        for _ in range(MAX_CONNECTIONS + 50):
            held.append(connect(tuned.host))
        # While they are held, a well-behaved request may wait or be refused, but not crash anything.
        during = call(tuned, "GET", SCIM + "/Me", wait=3)
        require_json_if_body(during, "a request during the flood")
        assert tuned.process.poll() is None, f"kiln died during the flood: {tuned.exit_report()}"
    finally:
        for sock in held:
            sock.close()
    deadline = time.monotonic() + 10
    last = None
    while time.monotonic() < deadline:
        last = call(tuned, "GET", SCIM + "/Me", wait=5)
        if last.response is not None and last.response.status == 200:
            break
        time.sleep(0.2)
    assert last is not None and last.response is not None and last.response.status == 200, f"after the flood closed: {last.describe()}"
    require_alive(tuned)


def test_flood_of_slow_clients_does_not_wedge_the_server(tuned):
    """Threads each trickling a request head: afterwards (and with them gone) the server
    answers promptly."""
    stop = threading.Event()

    def trickle():
        try:
            with connect(tuned.host) as sock:
                for byte in request_head("GET", SCIM + "/Me", tuned.admin_token, {"X-Slow": "s" * 32}):
                    if stop.is_set():
                        return
                    sock.sendall(bytes([byte]))
                    time.sleep(0.5)
        except OSError:
            return

    threads = [threading.Thread(target=trickle, daemon=True) for _ in range(MAX_CONNECTIONS)]
    for thread in threads:
        thread.start()
    try:
        time.sleep(HEADER_READ_TIMEOUT + SLACK)
        started = time.monotonic()
        outcome = call(tuned, "GET", SCIM + "/Me", wait=10)
        assert outcome.response is not None and outcome.response.status == 200, f"while {MAX_CONNECTIONS} slow clients trickle: {outcome.describe()}"
        assert time.monotonic() - started < PROMPT, f"served only after {time.monotonic() - started:.1f} s"
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=5)
    require_alive(tuned)


# --- headers and URIs -----------------------------------------------------------------------


def test_megabyte_header_is_refused(plain):
    outcome = call(plain, "GET", SCIM + "/Me", headers={"X-Huge": "h" * (1024 * 1024)}, wait=10)
    closed_or_error(outcome, "/api/2.0/me-with-huge-header", (431, 400), 10)
    require_alive(plain)


def test_header_over_max_header_bytes_is_refused(tuned):
    outcome = call(tuned, "GET", SCIM + "/Me", headers={"X-Big": "h" * (MAX_HEADER_BYTES + 4096)}, wait=10)
    closed_or_error(outcome, "/api/2.0/me-with-big-header", (431, 400), 10)
    require_alive(tuned)


def test_header_under_max_header_bytes_is_served(tuned):
    outcome = call(tuned, "GET", SCIM + "/Me", headers={"X-Fits": "h" * (MAX_HEADER_BYTES // 2)}, wait=10)
    assert outcome.response is not None and outcome.response.status == 200, outcome.describe()


def test_thousands_of_headers_are_refused(plain):
    headers = {f"X-Many-{i}": "v" for i in range(5_000)}
    outcome = call(plain, "GET", SCIM + "/Me", headers=headers, wait=10)
    # More than 100 headers is refused by the HTTP parser itself, before any route, with a
    # bare 431 and a closed connection: accepted here as "refused", not as an API error.
    if outcome.response is not None and outcome.response.status == 431 and not outcome.response.body:
        require_alive(plain)
        return
    closed_or_error(outcome, "/api/2.0/me-with-many-headers", (431, 400), 10)
    require_alive(plain)


def test_long_uri_is_414_or_404_json(plain):
    target = "/api/2.0/" + "a" * 20_000
    require_error(call(plain, "GET", target), target, (414, 404))
    require_alive(plain)


def test_long_query_string_on_a_real_route_answers_json(plain):
    target = "/api/2.0/clusters/list?filter_by.cluster_sources=" + "A" * 20_000
    outcome = call(plain, "GET", target)
    assert outcome.response is not None, outcome.describe()
    if outcome.response.status != 200:
        require_error(outcome, target, (400, 414))
    require_json_if_body(outcome, target[:60])


# --- wrong methods ----------------------------------------------------------------------------

WRONG_METHODS = [
    ("DELETE", "/api/2.0/clusters/list"),
    ("GET", "/api/2.0/secrets/put"),
    ("POST", "/api/2.0/token/list"),
    ("PUT", "/api/2.0/sql/statements"),
    ("PATCH", "/api/2.1/jobs/get"),
    ("POST", SCIM + "/Me"),
    ("GET", "/api/1.2/contexts/create"),
]


@pytest.mark.parametrize("method,path", WRONG_METHODS, ids=[f"{m} {p}" for m, p in WRONG_METHODS])
def test_wrong_method_is_405_in_the_family_shape(plain, method, path):
    outcome = call(plain, method, path, headers={"Content-Type": "application/json"} if method != "GET" else None)
    require_error(outcome, path, 405)


# --- bad query strings and paths ----------------------------------------------------------------

BAD_QUERIES = [
    "/api/2.0/sql/history/queries?max_results=abc",
    "/api/2.1/jobs/list?limit=-1",
    "/api/2.1/jobs/list?limit=%ZZ",
    "/api/2.1/jobs/list?limit=abc",
    "/api/2.1/jobs/get?job_id=abc",
    "/api/2.0/kiln/audit-events?max_results=abc",
    "/api/2.0/token-management/tokens?created_by_id=abc",
    "/api/2.0/dbfs/read?path=/tmp/x&offset=abc",
    "/api/2.1/unity-catalog/catalogs?max_results=abc",
    "/api/2.0/workspace/list?path=%FF%FE",
    SCIM + "/Users?count=abc",
    "/api/1.2/contexts/status?clusterId=x&contextId=%ZZ",
]


@pytest.mark.parametrize("target", BAD_QUERIES)
def test_bad_query_string_is_400_in_the_family_shape(plain, target):
    require_error(call(plain, "GET", target), target, 400)


BAD_PATHS = [
    "/api/2.1/unity-catalog/catalogs/%FF%FE",
    "/api/2.1/unity-catalog/schemas/main.%C3%28",
    "/api/2.0/fs/files/Volumes/main/default/x/%FF.bin",
    SCIM + "/Users/%FF",
    "/api/2.0/permissions/jobs/%FF",
]


@pytest.mark.parametrize("target", BAD_PATHS)
def test_undecodable_path_is_400_in_the_family_shape(plain, target):
    require_error(call(plain, "GET", target), target, 400)


# Decodable (leniently: a stray `%` stays itself) or naming something that cannot exist:
# a 400 or a 404, in JSON.
ODD_BUT_DECODABLE = [
    "/api/2.1/unity-catalog/catalogs/ma%00in",
    "/api/2.0/secrets/list?scope=%ZZ",
    "/api/2.0/fs/directories/Volumes/main/%ZZ/x",
    "/api/2.0/workspace/get-status?path=/Shared/a%00b",
    "/api/2.0/dbfs/get-status?path=/tmp/%ZZ%00",
]


@pytest.mark.parametrize("target", ODD_BUT_DECODABLE)
def test_odd_but_decodable_path_or_parameter_answers_json(plain, target):
    require_error(call(plain, "GET", target), target, (400, 404))


def test_control_byte_in_the_request_target(plain):
    """Not a valid request line: a 400 (JSON if it has a body) or a close."""
    outcome = exchange(plain.host, b"GET /api/2.0/a\x01b HTTP/1.1\r\nHost: kiln\r\nConnection: close\r\n\r\n")
    if outcome.response is not None:
        assert outcome.response.status == 400, outcome.describe()
        require_json_if_body(outcome, "control byte in the target")
    require_alive(plain)


MALFORMED_FRAMING = {
    "huge_chunk_size": (b"Transfer-Encoding: chunked\r\n", b"ffffffffffffffff\r\nabc"),
    "negative_content_length": (b"Content-Length: -5\r\n", b"{}"),
    "conflicting_content_lengths": (b"Content-Length: 2\r\nContent-Length: 9\r\n", b"{}"),
    "content_length_and_chunked": (b"Content-Length: 2\r\nTransfer-Encoding: chunked\r\n", b"0\r\n\r\n"),
    "bad_chunk_size": (b"Transfer-Encoding: chunked\r\n", b"zz\r\n{}\r\n0\r\n\r\n"),
}


@pytest.mark.parametrize("name", MALFORMED_FRAMING)
def test_malformed_framing_is_refused(tuned, name):
    """On the tuned server: a body that never completes is cut after body_read_timeout."""
    extra, body = MALFORMED_FRAMING[name]
    head = request_head("POST", "/api/2.0/secrets/scopes/create", tuned.admin_token, {"Content-Type": "application/json", "Connection": "close"})
    outcome = exchange(tuned.host, head[:-2] + extra + b"\r\n" + body, wait=BODY_READ_TIMEOUT + SLACK)
    if outcome.response is not None:
        assert outcome.response.status in (400, 413, 408), outcome.describe()
        require_json_if_body(outcome, name)
    else:
        assert outcome.closed, outcome.describe()
    require_alive(tuned)


# --- extreme numbers in query strings and page tokens ---------------------------------------


def page_token(offset: int) -> str:
    """A token in the form this server issues, naming an absurd offset."""
    return base64.urlsafe_b64encode(f"kiln-page:{offset}".encode()).decode().rstrip("=")


U64_MAX = 2**64 - 1
I64_MAX = 2**63 - 1
EXTREME_QUERIES = [
    f"/api/2.1/jobs/list?page_token={page_token(U64_MAX)}",
    f"/api/2.1/jobs/list?page_token={page_token(I64_MAX)}&limit=100",
    f"/api/2.1/jobs/list?offset={I64_MAX}&limit=100",
    f"/api/2.1/jobs/runs/list?page_token={page_token(U64_MAX)}",
    f"/api/2.1/jobs/runs/list?offset={I64_MAX}&limit=25",
    f"/api/2.1/jobs/runs/list?start_time_from={I64_MAX}&start_time_to=-{I64_MAX + 1}",
    f"/api/2.0/sql/warehouses?page_token={page_token(U64_MAX)}",
    f"/api/2.0/sql/queries?page_token={page_token(U64_MAX)}&page_size={I64_MAX}",
    f"/api/2.0/sql/history/queries?page_token={page_token(U64_MAX)}",
    f"/api/2.1/unity-catalog/catalogs?page_token={page_token(U64_MAX)}&max_results={I64_MAX}",
    f"/api/2.1/unity-catalog/schemas?catalog_name=main&page_token={page_token(U64_MAX)}",
    f"/api/2.1/unity-catalog/tables?catalog_name=main&schema_name=default&page_token={page_token(U64_MAX)}",
    f"/api/2.0/kiln/audit-events?page_token={page_token(U64_MAX)}",
    f"/api/2.0/kiln/audit-events?max_results={I64_MAX}",
    f"/api/2.0/fs/directories{VOLUME_PATH}?page_token={page_token(U64_MAX)}&page_size={I64_MAX}",
    f"/api/2.0/clusters/list?page_token={page_token(U64_MAX)}",
    f"/api/2.0/notification-destinations?page_token={page_token(U64_MAX)}",
    f"{SCIM}/Users?startIndex={I64_MAX}&count={I64_MAX}",
    f"{SCIM}/Groups?startIndex={U64_MAX}",
    f"/api/2.0/dbfs/read?path=/tmp&offset={I64_MAX}&length=1",
    f"/api/2.0/token-management/tokens?created_by_id={I64_MAX}",
    f"/api/2.0/sql/statements/x/result/chunks/{U64_MAX}",
]


@pytest.mark.parametrize("target", EXTREME_QUERIES)
def test_extreme_numbers_in_queries_and_page_tokens_never_500(plain, target):
    """An empty page or a 400/404, in JSON: never an overflow (a 500, or a panic)."""
    mark = len(plain.stderr)
    outcome = call(plain, "GET", target)
    assert outcome.response is not None, outcome.describe()
    if outcome.response.status != 200:
        require_error(outcome, target, (400, 404))
    require_json_if_body(outcome, target)
    panics = [line for line in plain.stderr[mark:].splitlines() if "panicked" in line]
    assert not panics, f"{target[:100]}: {panics[:2]}"


def test_a_failing_request_does_not_poison_its_route(plain):
    """Whatever the extreme page token did, the same list answers normally afterwards."""
    call(plain, "GET", f"/api/2.1/jobs/list?page_token={page_token(U64_MAX)}")
    call(plain, "POST", "/api/2.1/jobs/create", b'{"name": "hardening-after"}', headers={"Content-Type": "application/json"})
    for _ in range(3):
        outcome = call(plain, "GET", "/api/2.1/jobs/list?limit=100")
        assert outcome.response is not None and outcome.response.status == 200, outcome.describe()
        assert b"hardening-after" in outcome.response.body


# --- malformed JSON bodies ----------------------------------------------------------------------

BAD_JSON = {
    "trailing_garbage": b'{"scope": "hardening-trailing"} garbage',
    "two_objects": b'{"scope": "hardening-two-a"}{"scope": "hardening-two-b"}',
    "array_for_object": b'[{"scope": "hardening-array"}]',
    "string_for_object": b'"hardening"',
    "invalid_utf8": b'{"scope": "hardening-\xff\xfe"}',
    "unterminated": b'{"scope": "hardening-unterminated',
    "deep_and_unterminated": b'{"scope": "hardening-deep", "extra": ' + b"[" * 100_000,
    "scope_not_a_string": b'{"scope": ["hardening-list"]}',
}


@pytest.mark.parametrize("name", BAD_JSON)
def test_malformed_json_is_400(plain, name):
    path = "/api/2.0/secrets/scopes/create"
    outcome = call(plain, "POST", path, BAD_JSON[name], headers={"Content-Type": "application/json"})
    require_error(outcome, path, 400)
    scopes = plain.request("GET", "/api/2.0/secrets/scopes/list").json().get("scopes", [])
    assert not [s["name"] for s in scopes if s["name"].startswith("hardening-")], "a malformed body created a scope"
    require_alive(plain)


# Valid JSON that no field can hold: 400, never a crash.
OUT_OF_RANGE = [
    ("/api/2.0/token/create", b'{"lifetime_seconds": 1e999999}'),
    ("/api/2.0/token/create", b'{"lifetime_seconds": 99999999999999999999999999}'),
    ("/api/2.0/token/create", b'{"lifetime_seconds": -9223372036854775809}'),
    ("/api/2.1/jobs/create", b'{"name": "hardening-deep", "tags": {"t": ' + b"[" * 100_000 + b"]" * 100_000 + b"}}"),
    ("/api/2.1/jobs/create", b'{"name": "hardening-deep", "max_concurrent_runs": 1e999999}'),
    ("/api/2.0/sql/statements", b'{"statement": "SELECT 1", "warehouse_id": "x", "row_limit": 1e400}'),
]


@pytest.mark.parametrize("path,body", OUT_OF_RANGE, ids=[f"{i}-{p}" for i, (p, _) in enumerate(OUT_OF_RANGE)])
def test_out_of_range_json_values_are_400(plain, path, body):
    require_error(call(plain, "POST", path, body, headers={"Content-Type": "application/json"}), path, 400)
    require_alive(plain)


def test_deeply_nested_json_in_an_ignored_field_does_not_crash(plain):
    """Unknown fields are ignored; a deep value there is accepted or refused, never fatal."""
    path = "/api/2.0/secrets/scopes/create"
    body = b'{"scope": "hardening-deep-ignored", "extra": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    outcome = call(plain, "POST", path, body, headers={"Content-Type": "application/json"})
    assert outcome.response is not None, outcome.describe()
    if outcome.response.status != 200:
        require_error(outcome, path, 400)
    plain.request("POST", "/api/2.0/secrets/scopes/delete", json={"scope": "hardening-deep-ignored"})
    require_alive(plain)


@pytest.mark.parametrize("name", ["trailing_garbage", "array_for_object", "invalid_utf8"])
def test_malformed_json_under_scim_is_a_scim_400(plain, name):
    body = {"trailing_garbage": b'{"userName": "hardening-trailing@example.com"} x', "array_for_object": b'[{"userName": "a@example.com"}]', "invalid_utf8": b'{"userName": "\xff@example.com"}'}[name]
    require_error(call(plain, "POST", SCIM + "/Users", body, headers={"Content-Type": "application/scim+json"}), SCIM + "/Users", 400)


@pytest.mark.parametrize("name", ["trailing_garbage", "array_for_object", "invalid_utf8"])
def test_malformed_json_under_1_2_is_an_error_field(plain, name):
    body = {"trailing_garbage": b'{"clusterId": "x", "language": "python"} x', "array_for_object": b'[{"clusterId": "x"}]', "invalid_utf8": b'{"clusterId": "\xff", "language": "python"}'}[name]
    require_error(call(plain, "POST", "/api/1.2/contexts/create", body, headers={"Content-Type": "application/json"}), "/api/1.2/contexts/create", 400)


def test_form_body_on_a_json_route_is_400(plain):
    path = "/api/2.0/secrets/scopes/create"
    require_error(call(plain, "POST", path, b"scope=hardening-form", headers={"Content-Type": "application/x-www-form-urlencoded"}), path, 400)


# --- unknown routes under planned prefixes, and real unbuilt routes ----------------------------

TYPOS = [
    SCIM + "/Me/typo",
    SCIM + "/Userz",
    SCIM + "/Users/123/extra/segments",
    "/api/2.0/clusters/lisst",
    "/api/2.0/secrets/scopes/lists",
    "/api/2.0/sql/statementz",
    "/api/2.1/unity-catalog/catalogz",
    "/api/2.0/token/lisst",
    "/api/2.0/workspace/lisst",
    "/api/2.0/mlflow/no-such-thing",
    "/api/1.2/contexts/typo",
]


@pytest.mark.parametrize("path", TYPOS)
def test_typo_under_a_planned_prefix_is_404(plain, path):
    body = require_error(call(plain, "GET", path), path, 404)
    if not path.startswith((SCIM + "/", "/api/1.2/")):
        assert body["error_code"] == "ENDPOINT_NOT_FOUND", body
    assert "NOT_IMPLEMENTED" not in json.dumps(body) and "does not implement" not in json.dumps(body), body


UNBUILT = [
    ("GET", "/api/2.0/mlflow/experiments/list"),
    ("GET", "/api/2.0/repos"),
    ("GET", "/api/2.0/serving-endpoints"),
]


@pytest.mark.parametrize("method,path", UNBUILT, ids=[p for _, p in UNBUILT])
def test_real_unbuilt_databricks_route_is_501(plain, method, path):
    require_error(call(plain, method, path), path, 501, error_code="NOT_IMPLEMENTED")


# --- the error shape of each family ---------------------------------------------------------------


def test_scim_errors_use_the_scim_schema(plain):
    missing = SCIM + "/Users/987654321987"
    require_error(call(plain, "GET", missing), missing, 404)
    bad = SCIM + "/Users"
    require_error(call(plain, "POST", bad, b"{not json", headers={"Content-Type": "application/scim+json"}), bad, 400)


def test_1_2_errors_are_an_error_field(plain):
    path = "/api/1.2/contexts/create"
    require_error(call(plain, "POST", path, b"{not json", headers={"Content-Type": "application/json"}), path, 400)
    status = "/api/1.2/contexts/status?clusterId=nope&contextId=nope"
    outcome = call(plain, "GET", status)
    assert outcome.response is not None and outcome.response.status >= 400, outcome.describe()
    require_error(outcome, status, outcome.response.status)


def test_no_body_responses_and_successes_are_json(plain):
    """Successful answers of several kinds carry JSON (the Files API download is bytes)."""
    for target in ["/api/2.0/clusters/list", SCIM + "/Me", "/api/2.0/secrets/scopes/list", "/.well-known/databricks-config"]:
        outcome = call(plain, "GET", target)
        assert outcome.response is not None and outcome.response.status == 200, outcome.describe()
        require_json_if_body(outcome, target)


def make_volume(server) -> None:
    body = {"catalog_name": VOLUME[0], "schema_name": VOLUME[1], "name": VOLUME[2], "volume_type": "MANAGED"}
    response = server.request("POST", "/api/2.1/unity-catalog/volumes", json=body)
    assert response.status_code in (200, 409) or "already exists" in response.text, response.text[:300]


def test_files_upload_without_length_or_chunking_is_handled(plain):
    """A PUT with neither Content-Length nor chunked has an empty body by HTTP rules: an
    empty file, or a 4xx; no hang."""
    path = f"/api/2.0/fs/files{VOLUME_PATH}/no-length.bin?overwrite=true"
    head = request_head("PUT", path, plain.admin_token, {"Connection": "close"})
    outcome = exchange(plain.host, head, wait=PROMPT + 5)
    assert outcome.response is not None, outcome.describe()
    assert outcome.response.elapsed <= PROMPT, outcome.describe()
    require_json_if_body(outcome, path)


def test_base64_of_huge_workspace_import_is_refused(plain):
    """A workspace import over its 10 MiB limit (sent in full) is a 4xx JSON error."""
    content = base64.b64encode(b"x" * (11 * 1024 * 1024)).decode()
    body = json.dumps({"path": "/Shared/hardening-huge", "format": "AUTO", "content": content}).encode()
    outcome = call(plain, "POST", "/api/2.0/workspace/import", body, headers={"Content-Type": "application/json"}, wait=30)
    require_error(outcome, "/api/2.0/workspace/import", (400, 413))
