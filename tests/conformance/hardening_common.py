"""Shared by the hardening tests (test_hardening_http, _sql, _crash): a dedicated server that
is started again after it dies, a minimal raw HTTP/1.1 client for requests `requests` will
not send, and the checks every error body must pass.

Nothing here prints a token.
"""

from __future__ import annotations

import json
import re
import signal
import socket
import time
from dataclasses import dataclass, field
from typing import Optional
from urllib.parse import urlsplit

import pytest
import requests

import kilnlib

JSON_TYPE = "application/json"
SCIM_ERROR_SCHEMA = "urn:ietf:params:scim:api:messages:2.0:Error"
# A Databricks condition at the start of a FAILED statement's message: `[CONDITION] ...`.
CONDITION = re.compile(r"^\[[A-Z][A-Z0-9_]*(\.[A-Z0-9_]+)*\]")
# What a dying Rust process leaves on stderr.
DEATH_MARKERS = ("panicked", "overflowed its stack", "fatal runtime error", "SIGSEGV", "memory allocation")


# --- a dedicated server that comes back after a crash ---------------------------------------


class RestartableServer:
    """One `kiln serve` child for a module, started lazily; when a case kills it, `died()`
    says how, and the next `ensure()` starts a fresh one (new data directory)."""

    def __init__(self, kiln_bin: str, tmp_path_factory, config_toml: Optional[str] = None) -> None:
        self._bin = kiln_bin
        self._factory = tmp_path_factory
        self._config = config_toml
        self.server: Optional[kilnlib.KilnServer] = None
        self.starts = 0
        self.deaths: list[str] = []

    def ensure(self) -> kilnlib.KilnServer:
        if self.server is not None and self.server.process.poll() is None:
            return self.server
        if self.server is not None:
            self.deaths.append(self.died() or "gone")
        self.server = kilnlib.start_kiln(self._bin, self._factory.mktemp("kiln-hardening"), self._config)
        self.starts += 1
        return self.server

    def died(self) -> Optional[str]:
        """None while the child runs; else its exit code (or signal) and the telling lines
        of its stderr."""
        if self.server is None:
            return None
        code = self.server.process.poll()
        if code is None:
            return None
        how = f"signal {-code}" if code < 0 else f"exit code {code}"
        lines = [line for line in self.server.stderr.splitlines() if any(m in line for m in DEATH_MARKERS)]
        return f"kiln died ({how}); stderr: " + (" | ".join(lines[-5:]) or self.server.stderr_tail(5))

    def stderr_since(self, mark: int) -> str:
        return self.server.stderr[mark:] if self.server else ""

    def close(self) -> list[str]:
        if self.server is None:
            return []
        if self.server.process.poll() is not None:
            self.server.process.wait()
            return []
        return kilnlib.stop_kiln(self.server)


def new_panics(text: str) -> list[str]:
    return [line for line in text.splitlines() if any(m in line for m in DEATH_MARKERS)]


# --- error bodies ---------------------------------------------------------------------------


def is_json(content_type: Optional[str]) -> bool:
    return (content_type or "").split(";")[0].strip().lower() == JSON_TYPE


def describe(status, headers, body: bytes, limit: int = 200) -> str:
    content_type = headers.get("content-type") if headers is not None else None
    return f"HTTP {status}, Content-Type {content_type!r}, body {body[:limit]!r}"


def parsed_json(status, headers, body: bytes):
    """`(value, None)` for a JSON body, `(None, why not)` otherwise."""
    if not is_json(headers.get("content-type")):
        return None, "not JSON: " + describe(status, headers, body)
    try:
        return json.loads(body), None
    except ValueError:
        return None, "unparsable JSON: " + describe(status, headers, body)


def databricks_error(status, headers, body: bytes) -> Optional[str]:
    """Why this is not a Databricks error body ({error_code, message} in JSON); None if it is."""
    parsed, problem = parsed_json(status, headers, body)
    if problem:
        return problem
    if not isinstance(parsed, dict) or not isinstance(parsed.get("error_code"), str) or not parsed["error_code"]:
        return "no error_code: " + describe(status, headers, body)
    if not isinstance(parsed.get("message"), str):
        return "no message: " + describe(status, headers, body)
    return None


def response_error(response: requests.Response) -> Optional[str]:
    return databricks_error(response.status_code, response.headers, response.content)


def error_code(body: bytes) -> Optional[str]:
    try:
        parsed = json.loads(body)
    except ValueError:
        return None
    return parsed.get("error_code") if isinstance(parsed, dict) else None


# --- raw HTTP/1.1 ---------------------------------------------------------------------------


@dataclass
class RawResponse:
    status: int
    reason: str
    headers: dict  # lower-case names
    body: bytes
    elapsed: float

    def describe(self) -> str:
        return describe(self.status, self.headers, self.body) + f" after {self.elapsed:.1f} s"


@dataclass
class Outcome:
    """What a raw exchange came to: a response, the server closing the connection (reset
    or orderly) without one, or nothing at all before the deadline."""

    response: Optional[RawResponse] = None
    closed: bool = False
    timed_out: bool = False
    elapsed: float = 0.0
    note: str = field(default="")

    def describe(self) -> str:
        if self.response is not None:
            return self.response.describe()
        if self.closed:
            return f"connection closed without a response after {self.elapsed:.1f} s ({self.note})"
        return f"no response and connection still open after {self.elapsed:.1f} s"


def address(host_url: str) -> tuple[str, int]:
    parts = urlsplit(host_url)
    return parts.hostname, parts.port


def connect(host_url: str, timeout: float = 5.0) -> socket.socket:
    sock = socket.create_connection(address(host_url), timeout=timeout)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def request_head(method: str, target: str, token: Optional[str], headers: Optional[dict] = None, host: str = "kiln") -> bytes:
    lines = [f"{method} {target} HTTP/1.1", f"Host: {host}"]
    if token:
        lines.append(f"Authorization: Bearer {token}")
    for name, value in (headers or {}).items():
        lines.append(f"{name}: {value}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def read_response(sock: socket.socket, deadline: float, started: Optional[float] = None, head_only: bool = False) -> Outcome:
    """Reads one response (Content-Length, chunked, or until close) before `deadline`
    (time.monotonic())."""
    started = started if started is not None else time.monotonic()
    buffer = b""

    def receive() -> Optional[bytes]:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        sock.settimeout(remaining)
        try:
            return sock.recv(65536)
        except socket.timeout:
            return None
        except (ConnectionResetError, BrokenPipeError) as error:
            raise _Closed(type(error).__name__)

    try:
        while b"\r\n\r\n" not in buffer:
            chunk = receive()
            if chunk is None:
                return Outcome(timed_out=True, elapsed=time.monotonic() - started)
            if chunk == b"":
                return Outcome(closed=True, elapsed=time.monotonic() - started, note=f"EOF after {len(buffer)} bytes")
            buffer += chunk
        head, rest = buffer.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ", 2)
        status = int(parts[1])
        reason = parts[2] if len(parts) > 2 else ""
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        body = rest
        if head_only or status in (204, 304) or 100 <= status < 200:
            body = b""
        elif "content-length" in headers:
            length = int(headers["content-length"])
            while len(body) < length:
                chunk = receive()
                if not chunk:
                    break
                body += chunk
            body = body[:length]
        elif headers.get("transfer-encoding", "").lower() == "chunked":
            body = _read_chunked(body, receive)
        else:
            while True:
                chunk = receive()
                if not chunk:
                    break
                body += chunk
        return Outcome(response=RawResponse(status, reason, headers, body, time.monotonic() - started), elapsed=time.monotonic() - started)
    except _Closed as closed:
        return Outcome(closed=True, elapsed=time.monotonic() - started, note=str(closed))


class _Closed(Exception):
    pass


def _read_chunked(data: bytes, receive) -> bytes:
    body = b""
    while True:
        while b"\r\n" not in data:
            chunk = receive()
            if not chunk:
                return body
            data += chunk
        size_line, data = data.split(b"\r\n", 1)
        size = int(size_line.split(b";")[0] or b"0", 16)
        if size == 0:
            return body
        while len(data) < size + 2:
            chunk = receive()
            if not chunk:
                return body + data
            data += chunk
        body += data[:size]
        data = data[size + 2:]


def exchange(host_url: str, data: bytes, wait: float = 10.0) -> Outcome:
    """Sends `data` at once on a new connection and reads one response."""
    started = time.monotonic()
    with connect(host_url) as sock:
        try:
            sock.sendall(data)
        except (ConnectionResetError, BrokenPipeError) as error:
            # The server may answer and close before all of a large request went out.
            outcome = read_response(sock, started + wait, started)
            if outcome.response is None:
                outcome.closed, outcome.note = True, f"{type(error).__name__} while sending"
            return outcome
        return read_response(sock, started + wait, started)


def wait_closed(sock: socket.socket, deadline: float) -> tuple[bool, bytes]:
    """Reads until the peer closes (True) or `deadline` passes (False); returns what came."""
    received = b""
    while time.monotonic() < deadline:
        sock.settimeout(max(0.05, deadline - time.monotonic()))
        try:
            chunk = sock.recv(65536)
        except socket.timeout:
            return False, received
        except (ConnectionResetError, BrokenPipeError):
            return True, received
        if chunk == b"":
            return True, received
        received += chunk
    return False, received


def alive(server: kilnlib.KilnServer) -> Optional[str]:
    """None if the server answers an authenticated call; else why not."""
    if server.process.poll() is not None:
        return f"the process exited with code {server.process.returncode}"
    try:
        response = requests.get(server.host + kilnlib.SCIM + "/Me", headers=server.auth_headers(), timeout=10)
    except requests.RequestException as error:
        return f"GET /Me failed: {type(error).__name__}"
    if response.status_code != 200:
        return f"GET /Me answered {response.status_code}"
    return None


def time_limit(seconds: int):
    """A generator for an autouse fixture that replaces the suite's 60 s limit per test with
    `seconds`: each case bounds itself; this only catches a wedged client."""

    def expired(signum, frame):
        pytest.fail(f"test ran over {seconds} s", pytrace=False)

    previous = signal.signal(signal.SIGALRM, expired)
    signal.alarm(seconds)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)
