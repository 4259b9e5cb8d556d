"""End-to-end tests of kiln_runtime: a real driver subprocess on a real Unix socket,
with a small in-process HTTP server standing in for the Kiln REST endpoints."""

import base64
import http.server
import json
import os
import pickle
import queue
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import uuid

import pytest

PYTHON_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, PYTHON_DIR)

from kiln_runtime.spark import Row  # noqa: E402

SECRET = "hunter2-secret"
TYPED_COLUMNS = [
    {"name": "id", "type_name": "LONG", "type_text": "bigint"},
    {"name": "name", "type_name": "STRING", "type_text": "string"},
    {"name": "price", "type_name": "DECIMAL", "type_text": "decimal(10,2)"},
    {"name": "ok", "type_name": "BOOLEAN", "type_text": "boolean"},
    {"name": "d", "type_name": "DATE", "type_text": "date"},
    {"name": "ts", "type_name": "TIMESTAMP", "type_text": "timestamp"},
    {"name": "ratio", "type_name": "DOUBLE", "type_text": "double"},
    {"name": "tags", "type_name": "ARRAY", "type_text": "array<string>"},
    {"name": "raw", "type_name": "BINARY", "type_text": "binary"},
    {"name": "n", "type_name": "INT", "type_text": "int"},
]
TYPED_ROWS = [["1", "alice", "12.50", "true", "2024-01-31", "2024-01-31T10:20:30.5Z", "NaN",
               '["a","b"]', base64.b64encode(b"hi").decode(), None]]
TASK = {"job_id": 7, "run_id": 70, "task_run_id": 71, "task_key": "ingest", "notebook_path": "/Users/me/jobs/main"}


def process_gone(pid):
    """True once pid has exited (a zombie no one reaps counts as gone)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
    except FileNotFoundError:
        return True
    except OSError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def wait_until_gone(pid, timeout):
    deadline = time.monotonic() + timeout
    while not process_gone(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


class FakeKiln(http.server.ThreadingHTTPServer):
    """Canned answers for the endpoints the runtime calls, with in-memory files."""

    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), FakeKilnHandler)
        self.requests = []  # (method, path, authorization, json body or None)
        self.files = {}  # path -> bytes, for DBFS and volumes alike
        self.dirs = {"/"}
        self.handles = {}
        self.task_values = {}  # (run_id, task_key, key) -> JSON text
        self.runs = {}  # run id -> {"path", "polls", "child"}
        self.next_run_id = 100
        self.cancelled_runs = []
        # When set, runs/submit calls it with the request body; it starts the child run
        # and returns a function giving the child's finished message, or None while it runs.
        self.start_child = None

    def add_parents(self, path):
        while path.rstrip("/"):
            path = path.rsplit("/", 1)[0] or "/"
            self.dirs.add(path)

    def children(self, path):
        prefix = path.rstrip("/") + "/"
        names = {p[len(prefix):].split("/")[0] for p in list(self.files) + list(self.dirs) if p.startswith(prefix) and p != prefix}
        return sorted(prefix + name for name in names)

    def run_outcome(self, run):
        """(life_cycle_state, result_state, state_message, get-output answer or None for 404)
        of a submitted notebook run; canned by the notebook's name."""
        if run["child"] is not None:
            finished = run["child"]()
            if finished is None:
                return "RUNNING", None, "", {}
            if finished["exit_value"] is not None:
                return "TERMINATED", "SUCCESS", "", {"notebook_output": {"result": finished["exit_value"]}}
            return "TERMINATED", "FAILED", "Workload failed", {"error": (finished["results"] or {}).get("summary")}
        name = run["path"].rsplit("/", 1)[-1]
        if name == "child_ok":  # running for one poll, to exercise polling
            if run["polls"] < 2:
                return "RUNNING", None, "", {}
            return "TERMINATED", "SUCCESS", "", {"notebook_output": {"result": "child says hi"}}
        if name == "child_no_result":
            return "TERMINATED", "SUCCESS", "", {}
        if name == "child_fail":
            return "TERMINATED", "FAILED", "Workload failed", {"error": "ZeroDivisionError: division by zero"}
        if name == "child_lost":
            return "INTERNAL_ERROR", None, "The cluster was lost", None
        return "RUNNING", None, "", {}  # child_slow and anything else never ends


class FakeKilnHandler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def _answer(self, status, payload=None, raw=None, headers=None):
        body = raw if raw is not None else json.dumps(payload if payload is not None else {}).encode()
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _error(self, status, code, message):
        self._answer(status, {"error_code": code, "message": message})

    def _handle(self):
        url = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(url.query))
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        is_json = self.headers.get("Content-Type") == "application/json"
        body = json.loads(raw) if is_json and raw else {}
        srv = self.server
        srv.requests.append((self.command, url.path, self.headers.get("Authorization"), body if is_json else None))
        path = urllib.parse.unquote(url.path)
        route = (self.command, path)
        if route == ("POST", "/api/2.0/kiln/clusters/sql"):
            return self._sql(body)
        if route == ("GET", "/api/2.0/secrets/get"):
            values = {("prod", "db-password"): SECRET.encode(), ("prod", "blob"): "bytes-secret-€".encode()}
            value = values.get((query.get("scope"), query.get("key")))
            if value is None:
                return self._error(404, "RESOURCE_DOES_NOT_EXIST", "Secret does not exist")
            return self._answer(200, {"key": query["key"], "value": base64.b64encode(value).decode()})
        if route == ("GET", "/api/2.0/secrets/list"):
            return self._answer(200, {"secrets": [{"key": "blob", "last_updated_timestamp": 1}, {"key": "db-password", "last_updated_timestamp": 2}]})
        if route == ("GET", "/api/2.0/secrets/scopes/list"):
            return self._answer(200, {"scopes": [{"name": "prod", "backend_type": "DATABRICKS"}]})
        if path == "/api/2.0/kiln/jobs/task-values":
            return self._task_values(query, body)
        if path.startswith("/api/2.1/jobs/runs/"):
            return self._runs(path[len("/api/2.1/jobs/runs/"):], query, body)
        if path.startswith("/api/2.0/dbfs/"):
            return self._dbfs(path[len("/api/2.0/dbfs/"):], query, body)
        for kind in ("files", "directories"):
            prefix = f"/api/2.0/fs/{kind}"
            if path.startswith(prefix + "/"):
                return self._volumes(kind, path[len(prefix):], query, raw)
        self._error(404, "ENDPOINT_NOT_FOUND", f"no route {self.command} {path}")

    def _sql(self, body):
        statement = re.sub(r"--[^\n]*", "", body["statement"]).strip()
        catalog, schema = body.get("catalog", "main"), body.get("schema", "default")
        upper = statement.upper()
        if "MISSING" in upper:
            return self._error(404, "TABLE_OR_VIEW_NOT_FOUND", "[TABLE_OR_VIEW_NOT_FOUND] The table or view `missing` cannot be found.")
        columns, rows = [{"name": "1", "type_name": "INT", "type_text": "int"}], [["1"]]
        if upper.startswith("USE SCHEMA") or upper.startswith("USE CATALOG"):
            name = statement.split()[-1].strip("`")
            catalog, schema = (catalog, name) if upper.startswith("USE SCHEMA") else (name, "default")
            columns, rows = [], []
        elif upper == "SELECT * FROM TYPED":
            columns, rows = TYPED_COLUMNS, TYPED_ROWS
        elif re.match(r"SELECT \* FROM RANGE\((\d+)\)", upper):
            count = int(re.match(r"SELECT \* FROM RANGE\((\d+)\)", upper).group(1))
            columns, rows = [{"name": "id", "type_name": "LONG", "type_text": "bigint"}], [[str(i)] for i in range(count)]
        elif upper == "SELECT PEOPLE":
            columns = [{"name": "id", "type_name": "INT", "type_text": "int"}, {"name": "name", "type_name": "STRING", "type_text": "string"}]
            rows = [["1", "alice"], ["2", None], ["3", "a-very-long-name-that-is-truncated"]]
        elif upper == "SELECT PARAMS":
            columns = [{"name": p["name"], "type_name": "STRING", "type_text": "string"} for p in body["parameters"]]
            rows = [[p["value"] for p in body["parameters"]]]
        elif re.match(r"SELECT '(.*)' AS (\w+)$", statement):
            value, name = re.match(r"SELECT '(.*)' AS (\w+)$", statement).groups()
            columns, rows = [{"name": name, "type_name": "STRING", "type_text": "string"}], [[value]]
        self._answer(200, {"columns": columns, "rows": rows, "catalog": catalog, "schema": schema})

    def _task_values(self, query, body):
        srv = self.server
        if self.command == "POST":
            srv.task_values[(body["run_id"], body["task_key"], body["key"])] = body["value"]
            return self._answer(200, {})
        value = srv.task_values.get((int(query["run_id"]), query["task_key"], query["key"]))
        if value is None:
            return self._error(404, "RESOURCE_DOES_NOT_EXIST", "No such task value")
        return self._answer(200, {"value": value})

    def _runs(self, op, query, body):
        srv = self.server
        if op == "submit":
            run_id = srv.next_run_id
            srv.next_run_id += 10
            child = srv.start_child(body) if srv.start_child else None
            srv.runs[run_id] = {"path": body["tasks"][0]["notebook_task"]["notebook_path"], "polls": 0, "child": child}
            return self._answer(200, {"run_id": run_id})
        if op == "get":
            run_id = int(query["run_id"])
            run = srv.runs[run_id]
            run["polls"] += 1
            life_cycle, result, message, _ = srv.run_outcome(run)
            state = {"life_cycle_state": life_cycle, "state_message": message}
            if result:
                state["result_state"] = result
            # The task's run id differs from the job run's, as on Databricks.
            return self._answer(200, {"run_id": run_id, "state": state,
                                      "tasks": [{"run_id": run_id + 1, "task_key": "notebook_run", "state": state}]})
        if op == "get-output":
            run = srv.runs.get(int(query["run_id"]) - 1)
            output = srv.run_outcome(run)[3] if run else None
            if output is None:
                return self._error(404, "RESOURCE_DOES_NOT_EXIST", "Run output does not exist")
            return self._answer(200, output)
        if op == "cancel":
            srv.cancelled_runs.append(body["run_id"])
            return self._answer(200, {})
        self._error(404, "ENDPOINT_NOT_FOUND", op)

    def _dbfs(self, op, query, body):
        srv = self.server
        path = query.get("path") or body.get("path")
        if op == "get-status":
            if path in srv.dirs:
                return self._answer(200, {"path": path, "is_dir": True, "file_size": 0, "modification_time": 5})
            if path in srv.files:
                return self._answer(200, {"path": path, "is_dir": False, "file_size": len(srv.files[path]), "modification_time": 5})
            return self._error(404, "RESOURCE_DOES_NOT_EXIST", f"No file or directory exists on path {path}.")
        if op == "list":
            entries = [{"path": p, "is_dir": p in srv.dirs, "file_size": len(srv.files.get(p, b"")), "modification_time": 5}
                       for p in srv.children(path)]
            return self._answer(200, {"files": entries} if entries else {})
        if op == "read":
            data = srv.files[path][int(query["offset"]):int(query["offset"]) + int(query["length"])]
            return self._answer(200, {"bytes_read": len(data), "data": base64.b64encode(data).decode()})
        if op in ("put", "create"):
            if path in srv.files and not body.get("overwrite"):
                return self._error(409, "RESOURCE_ALREADY_EXISTS", f"A file or directory already exists at the input path {path}.")
            srv.add_parents(path)
            if op == "create":
                handle = len(srv.handles) + 1
                srv.handles[handle] = [path, b""]
                return self._answer(200, {"handle": handle})
            srv.files[path] = base64.b64decode(body["contents"])
            return self._answer(200, {})
        if op == "add-block":
            srv.handles[body["handle"]][1] += base64.b64decode(body["data"])
            return self._answer(200, {})
        if op == "close":
            path, data = srv.handles.pop(body["handle"])
            srv.files[path] = data
            return self._answer(200, {})
        if op == "mkdirs":
            srv.dirs.add(path)
            srv.add_parents(path)
            return self._answer(200, {})
        if op == "delete":
            for p in [p for p in list(srv.files) + list(srv.dirs) if p == path or p.startswith(path + "/")]:
                srv.files.pop(p, None)
                srv.dirs.discard(p)
            return self._answer(200, {})
        if op == "move":
            source, target = body["source_path"], body["destination_path"]
            srv.files[target] = srv.files.pop(source)
            return self._answer(200, {})
        self._error(404, "ENDPOINT_NOT_FOUND", op)

    def _volumes(self, kind, path, query, raw):
        srv = self.server
        if kind == "files":
            if self.command in ("GET", "HEAD"):
                if path not in srv.files:
                    return self._error(404, "NOT_FOUND", "The file being accessed is not found.")
                return self._answer(200, raw=srv.files[path], headers={"Last-Modified": "Wed, 31 Jan 2024 10:00:00 GMT"})
            if self.command == "PUT":
                if path in srv.files and query.get("overwrite") != "true":
                    return self._error(409, "ALREADY_EXISTS", "The file being created already exists.")
                srv.files[path] = raw
                srv.add_parents(path)
                return self._answer(204, raw=b"")
            srv.files.pop(path)
            return self._answer(204, raw=b"")
        if self.command == "PUT":
            srv.dirs.add(path)
            srv.add_parents(path)
            return self._answer(204, raw=b"")
        if path not in srv.dirs:
            return self._error(404, "NOT_FOUND", "The directory being accessed is not found.")
        children = srv.children(path)
        if self.command == "DELETE":
            if children:
                return self._error(409, "DIRECTORY_NOT_EMPTY", "The directory is not empty.")
            srv.dirs.discard(path)
            return self._answer(204, raw=b"")
        start = int(query.get("page_token") or 0)  # two entries a page, to exercise paging
        page = [{"path": p, "name": p.rsplit("/", 1)[-1], "is_directory": p in srv.dirs,
                 "file_size": len(srv.files.get(p, b"")), "last_modified": 7} for p in children[start:start + 2]]
        answer = {"contents": page}
        if start + 2 < len(children):
            answer["next_page_token"] = str(start + 2)
        self._answer(200, answer)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _handle


class DriverProcess:
    """One `python3 -m kiln_runtime.driver` on a Unix socket this test listens on."""

    def __init__(self, host):
        self.dir = tempfile.mkdtemp(prefix="kiln-rt-")
        socket_path = os.path.join(self.dir, "driver.sock")
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(socket_path)
        self.listener.listen(1)
        self.listener.settimeout(20)
        self.log_path = os.path.join(self.dir, "driver.log")
        env = dict(os.environ, PYTHONPATH=PYTHON_DIR, KILN_DRIVER_SOCKET=socket_path, KILN_HOST=host, KILN_CLUSTER_ID="cluster-1")
        with open(self.log_path, "wb") as log:
            self.proc = subprocess.Popen([sys.executable, "-m", "kiln_runtime.driver"], env=env,
                                         stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        self.conn, _ = self.listener.accept()
        self.tokens = []
        self.raw_lines = []
        self.inbox = queue.Queue()
        self.finished = {}  # command id -> its finished message, for the fake's child runs
        self.send_lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()
        self.hello = self.next_message()

    def _read(self):
        try:
            for line in self.conn.makefile("rb"):
                self.raw_lines.append(line.decode("utf-8"))
                message = json.loads(line)
                if message["op"] == "finished":
                    self.finished[message["command_id"]] = message
                self.inbox.put(message)
        except ConnectionResetError:  # a test killed the driver
            pass
        self.inbox.put(None)

    def send(self, message):
        with self.send_lock:  # the fake server starts child runs from its own threads
            self.conn.sendall((json.dumps(message) + "\n").encode("utf-8"))

    def next_message(self, timeout=15):
        message = self.inbox.get(timeout=timeout)
        for line in self.raw_lines:
            for token in self.tokens:
                assert token not in line, "the command token leaked into a driver message"
        return message

    def submit(self, code, context="ctx", language="python", widgets=None, **fields):
        """Sends an execute; fields are its optional parts (cells, argv, task)."""
        command_id = "cmd-" + uuid.uuid4().hex[:8]
        token = "dapi-" + uuid.uuid4().hex
        self.tokens.append(token)
        message = {"op": "execute", "command_id": command_id, "context_id": context, "language": language,
                   "code": code, "token": token}
        if code is None:
            del message["code"]
        if widgets is not None:
            message["widgets"] = widgets
        message.update(fields)
        self.send(message)
        return command_id

    def wait_for(self, op, command_id, timeout=15):
        deadline = time.monotonic() + timeout
        while True:
            message = self.next_message(max(deadline - time.monotonic(), 0.01))
            assert message is not None, "driver closed the socket"
            if message["op"] == op and message["command_id"] == command_id:
                return message

    def wait_finished(self, command_ids, timeout=15):
        """The finished messages of commands that run at the same time, in whatever order they come."""
        waiting, deadline = set(command_ids), time.monotonic() + timeout
        while waiting:
            message = self.next_message(max(deadline - time.monotonic(), 0.01))
            assert message is not None, "driver closed the socket"
            if message["op"] == "finished":
                waiting.discard(message["command_id"])
        return [self.finished[command_id] for command_id in command_ids]

    def run(self, code, **kwargs):
        command_id = self.submit(code, **kwargs)
        assert self.next_message()["op"] == "started"
        return self.wait_for("finished", command_id)

    def text(self, code, **kwargs):
        finished = self.run(code, **kwargs)
        assert finished["status"] == "Finished", finished
        assert finished["results"]["resultType"] == "text", finished
        return finished["results"]["data"]

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.conn.close()
        self.listener.close()


@pytest.fixture(scope="module")
def kiln():
    server = FakeKiln()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()


@pytest.fixture(scope="module")
def driver(kiln):
    process = DriverProcess("http://127.0.0.1:%d" % kiln.server_address[1])
    yield process
    process.send({"op": "shutdown"})
    assert process.proc.wait(timeout=15) == 0
    with open(process.log_path, encoding="utf-8") as log:
        driver_log = log.read()
    assert "captured-stdout-marker" not in driver_log and "captured-stderr-marker" not in driver_log
    process.close()


@pytest.fixture
def ctx():
    return "ctx-" + uuid.uuid4().hex[:8]


def test_hello(driver):
    assert driver.hello["op"] == "hello"
    assert driver.hello["cluster_id"] == "cluster-1"
    assert driver.hello["pid"] == driver.proc.pid
    assert re.match(r"^\d+\.\d+\.\d+", driver.hello["python_version"])


def test_expression_value_and_output(driver, ctx):
    assert driver.text("1 + 1", context=ctx) == "2"
    assert driver.text("x = 'a'\nx * 2", context=ctx) == "'aa'"
    assert driver.text("print('line')\nNone", context=ctx) == "line"
    assert driver.text("y = 3", context=ctx) == ""
    assert driver.text("for i in range(2):\n    print(i)\n[1, 2]", context=ctx) == "0\n1\n[1, 2]"


def test_stdout_and_stderr_are_captured(driver, ctx):
    code = "import sys\nprint('captured-stdout-marker')\nprint('captured-stderr-marker', file=sys.stderr)"
    assert driver.text(code, context=ctx) == "captured-stdout-marker\ncaptured-stderr-marker"
    finished = driver.run("input()", context=ctx)
    assert finished["results"]["summary"].startswith("EOFError")


def test_error_result(driver, ctx):
    driver.text("def divide(a):\n    return a / 0", context=ctx)
    finished = driver.run("x = 1\ndivide(x)", context=ctx)
    assert finished["status"] == "Finished"
    assert finished["exit_value"] is None
    results = finished["results"]
    assert results["resultType"] == "error"
    assert results["summary"] == "ZeroDivisionError: division by zero"
    assert "Traceback (most recent call last)" in results["cause"]
    assert "return a / 0" in results["cause"] and "divide(x)" in results["cause"]
    assert "kiln_runtime" not in results["cause"]


def test_syntax_error(driver, ctx):
    finished = driver.run("x = (", context=ctx)
    assert finished["status"] == "Finished"
    assert finished["results"]["summary"].startswith("SyntaxError:")
    assert "x = (" in finished["results"]["cause"]


def test_globals_persist_within_and_are_isolated_between_contexts(driver, ctx):
    other = ctx + "-other"
    driver.text("counter = 41", context=ctx)
    assert driver.text("counter += 1\ncounter", context=ctx) == "42"
    assert driver.text("__name__", context=ctx) == "'__main__'"
    finished = driver.run("counter", context=other)
    assert finished["status"] == "Finished"
    assert finished["results"]["summary"] == "NameError: name 'counter' is not defined"


def test_destroy_context_forgets_globals_and_widgets(driver, ctx):
    driver.text("kept = 1\ndbutils.widgets.text('w', 'v')", context=ctx)
    driver.send({"op": "destroy_context", "context_id": ctx})
    assert driver.run("kept", context=ctx)["results"]["summary"].startswith("NameError")
    assert driver.text("dbutils.widgets.getArgument('w', 'gone')", context=ctx) == "'gone'"


def test_cancel_running_command(driver, ctx):
    command_id = driver.submit("import time\ntime.sleep(30)", context=ctx)
    driver.wait_for("started", command_id)
    time.sleep(0.3)
    started = time.monotonic()
    driver.send({"op": "cancel", "command_id": command_id})
    finished = driver.wait_for("finished", command_id, timeout=5)
    assert time.monotonic() - started < 5
    assert finished["status"] == "Cancelled" and finished["results"] is None
    assert driver.text("'still alive'", context=ctx) == "'still alive'"
    driver.send({"op": "cancel", "command_id": command_id})  # already finished: ignored
    driver.send({"op": "cancel", "command_id": "never-existed"})
    assert driver.text("2", context=ctx) == "2"


def test_cancel_queued_command(driver, ctx):
    running = driver.submit("import time\ntime.sleep(30)", context=ctx)
    queued = driver.submit("ran = True", context=ctx)
    driver.wait_for("started", running)
    driver.send({"op": "cancel", "command_id": queued})
    finished = driver.next_message()
    assert finished == {"op": "finished", "command_id": queued, "status": "Cancelled", "results": None, "exit_value": None}
    driver.send({"op": "cancel", "command_id": running})
    assert driver.wait_for("finished", running, timeout=5)["status"] == "Cancelled"
    assert driver.run("ran", context=ctx)["results"]["summary"].startswith("NameError")


def test_notebook_exit(driver, ctx):
    finished = driver.run("print('before')\ndbutils.notebook.exit('done')\nprint('after')", context=ctx)
    assert finished["status"] == "Finished"
    assert finished["exit_value"] == "done"
    assert finished["results"] == {"resultType": "text", "data": "done"}, "the exit value is the result"
    code = "try:\n    dbutils.notebook.exit(42)\nexcept Exception:\n    print('swallowed')"
    finished = driver.run(code, context=ctx)
    assert finished["status"] == "Finished" and finished["exit_value"] == "42"
    assert finished["results"]["data"] == "42"
    indented = driver.run("\n        x = 1\n        dbutils.notebook.exit(str(x + 1))\n        ", context=ctx)
    assert indented["status"] == "Finished" and indented["exit_value"] == "2", "indented cells are dedented"


def test_widgets(driver, ctx):
    driver.text("dbutils.widgets.text('city', 'Oslo', 'City')\ndbutils.widgets.dropdown('size', 'S', ['S', 'M'])", context=ctx)
    assert driver.text("dbutils.widgets.get('city')", context=ctx) == "'Oslo'"
    assert driver.text("dbutils.widgets.get('city')", context=ctx, widgets={"city": "Bergen"}) == "'Bergen'"
    assert driver.text("dbutils.widgets.get('city')", context=ctx) == "'Oslo'"  # params last one command
    assert driver.text("dbutils.widgets.get('extra')", context=ctx, widgets={"extra": "x"}) == "'x'"
    assert driver.text("dbutils.widgets.getArgument('nope', 'fallback')", context=ctx) == "'fallback'"
    assert driver.text("sorted(dbutils.widgets.getAll().items())", context=ctx, widgets={"run": "7"}) == \
        "[('city', 'Oslo'), ('run', '7'), ('size', 'S')]"
    finished = driver.run("dbutils.widgets.dropdown('bad', 'X', ['A', 'B'])", context=ctx)
    assert finished["results"]["summary"].startswith("ValueError:")
    finished = driver.run("dbutils.widgets.get('undefined_widget')", context=ctx)
    assert finished["status"] == "Finished"
    assert "InputWidgetNotDefined" in finished["results"]["summary"] and "undefined_widget" in finished["results"]["summary"]
    driver.text("dbutils.widgets.remove('city')", context=ctx)
    assert driver.text("dbutils.widgets.getArgument('city')", context=ctx) == ""


def test_secret_redaction(driver, kiln, ctx):
    assert driver.text("s = dbutils.secrets.get('prod', 'db-password')\nprint(s)\ns", context=ctx) == "[REDACTED]\n'[REDACTED]'"
    assert driver.text(f"print('{SECRET}'.upper(), len(s))", context=ctx) == f"{SECRET.upper()} {len(SECRET)}"
    finished = driver.run("raise ValueError('password is ' + s)", context=ctx)
    assert finished["results"]["summary"] == "ValueError: password is [REDACTED]"
    assert SECRET not in finished["results"]["cause"]
    finished = driver.run("dbutils.notebook.exit('pw=' + s)", context=ctx)
    assert finished["exit_value"] == "pw=[REDACTED]"
    finished = driver.run(f"display(spark.sql(\"SELECT '{SECRET}' AS v\"))", context=ctx)
    assert finished["results"]["data"] == [["[REDACTED]"]]
    assert driver.text("b = dbutils.secrets.getBytes('prod', 'blob')\nprint(b.decode())", context=ctx) == "[REDACTED]"
    assert driver.text("[m.key for m in dbutils.secrets.list('prod')], dbutils.secrets.listScopes()", context=ctx) == \
        "(['blob', 'db-password'], [SecretScope(name='prod')])"
    finished = driver.run("dbutils.secrets.get('prod', 'nope')", context=ctx)
    assert "RESOURCE_DOES_NOT_EXIST" in finished["results"]["summary"]
    # Every REST call carried the token of the command that made it, the newest one.
    assert kiln.requests[-1][2] == "Bearer " + driver.tokens[-1]
    assert driver.text(f"'{SECRET}'", context=ctx + "-fresh") == f"'{SECRET}'"  # redaction is per context


def test_sql_language_table_result(driver, kiln, ctx):
    finished = driver.run("USE SCHEMA other;\n-- the data; with a comment\nSELECT * FROM typed;", context=ctx, language="sql")
    assert finished["status"] == "Finished"
    results = finished["results"]
    assert results["resultType"] == "table" and results["truncated"] is False and results["isJsonSchema"] is True
    assert [(c["name"], json.loads(c["type"]), c["metadata"]) for c in results["schema"]] == [
        ("id", "long", "{}"), ("name", "string", "{}"), ("price", "decimal(10,2)", "{}"), ("ok", "boolean", "{}"),
        ("d", "date", "{}"), ("ts", "timestamp", "{}"), ("ratio", "double", "{}"), ("tags", "string", "{}"),
        ("raw", "binary", "{}"), ("n", "integer", "{}")]
    assert results["data"] == [[1, "alice", "12.50", True, "2024-01-31", "2024-01-31T10:20:30.500000+00:00", "NaN",
                                ["a", "b"], "aGk=", None]]
    sql_bodies = [r[3] for r in kiln.requests if r[1] == "/api/2.0/kiln/clusters/sql"][-2:]
    assert sql_bodies[0]["statement"] == "USE SCHEMA other" and sql_bodies[0]["cluster_id"] == "cluster-1"
    assert sql_bodies[1]["schema"] == "other" and sql_bodies[1]["catalog"] == "main"
    assert driver.text("spark.catalog.currentDatabase(), spark.catalog.currentCatalog()", context=ctx) == "('other', 'main')"
    finished = driver.run("SELECT * FROM missing", context=ctx, language="sql")
    assert finished["status"] == "Finished"
    assert finished["results"]["summary"] == "AnalysisException: [TABLE_OR_VIEW_NOT_FOUND] The table or view `missing` cannot be found."


def test_typed_rows_in_python(driver, ctx):
    code = ("r = spark.sql('SELECT * FROM typed').first()\n"
            "print(type(r.id).__name__, type(r.price).__name__, r.price, r.ok, repr(r.d), r.ts.isoformat())\n"
            "print(r.ratio != r.ratio, r.tags, r.raw, r.n)")
    assert driver.text(code, context=ctx) == (
        "int Decimal 12.50 True datetime.date(2024, 1, 31) 2024-01-31T10:20:30.500000+00:00\nTrue ['a', 'b'] b'hi' None")
    assert driver.text("spark.sql('SELECT params', args={'a': 1, 'b': None}).collect()", context=ctx) == "[Row(a='1', b=None)]"
    assert driver.text("df = spark.table('typed')\nprint(df)\ndf.columns == [c for c, _ in df.dtypes], df.count()", context=ctx) == (
        "DataFrame[id: bigint, name: string, price: decimal(10,2), ok: boolean, d: date, ts: timestamp, "
        "ratio: double, tags: array<string>, raw: binary, n: int]\n(True, 1)")
    finished = driver.run("spark.sql('SELECT * FROM missing')", context=ctx)
    assert finished["results"]["summary"].startswith("AnalysisException: [TABLE_OR_VIEW_NOT_FOUND]")


def test_dataframe_results_and_display(driver, ctx):
    finished = driver.run("df = spark.sql('SELECT * FROM range(3)')\ndf", context=ctx)
    assert finished["results"] == {"resultType": "text", "data": "DataFrame[id: bigint]"}
    finished = driver.run("display(df)", context=ctx)
    assert finished["results"]["data"] == [[0], [1], [2]]
    finished = driver.run("display(df.limit(2))\nprint('not shown')", context=ctx)
    assert finished["results"]["resultType"] == "table" and finished["results"]["data"] == [[0], [1]]
    assert driver.text("display('plain')", context=ctx) == "plain"
    finished = driver.run("display(spark.sql('SELECT * FROM range(10005)'))", context=ctx)
    assert finished["results"]["truncated"] is True and len(finished["results"]["data"]) == 10000
    assert driver.text("df.isEmpty(), df.head(), df.take(2), df.head(1), df.limit(0).first()", context=ctx) == \
        "(False, Row(id=0), [Row(id=0), Row(id=1)], [Row(id=0)], None)"


def test_show_formatting(driver, ctx):
    assert driver.text("spark.sql('SELECT people').show()", context=ctx) == (
        "+---+--------------------+\n"
        "| id|                name|\n"
        "+---+--------------------+\n"
        "|  1|               alice|\n"
        "|  2|                null|\n"
        "|  3|a-very-long-name-...|\n"
        "+---+--------------------+\n")
    assert driver.text("spark.sql('SELECT people').show(2, truncate=False)", context=ctx) == (
        "+---+-----+\n"
        "|id |name |\n"
        "+---+-----+\n"
        "|1  |alice|\n"
        "|2  |null |\n"
        "+---+-----+\n"
        "only showing top 2 rows\n")


def test_row_behaviour():
    row = Row(id=1, name="x")
    assert row.id == 1 and row["name"] == "x" and row[0] == 1 and row[-1] == "x"
    assert row.asDict() == {"id": 1, "name": "x"}
    assert repr(row) == "Row(id=1, name='x')"
    assert row == (1, "x") and row == Row(id=1, name="x") and hash(row) == hash((1, "x"))
    assert tuple(row) == (1, "x") and len(row) == 2
    assert pickle.loads(pickle.dumps(row)).asDict() == row.asDict()
    assert Row(inner=Row(a=1)).asDict(recursive=True) == {"inner": {"a": 1}}
    with pytest.raises(AttributeError):
        row.missing
    with pytest.raises(KeyError):
        row["missing"]
    with pytest.raises(RuntimeError):
        row.id = 2


def test_fs(driver, kiln, ctx):
    assert driver.text("dbutils.fs.put('dbfs:/tmp/a.txt', 'hello world')", context=ctx) == "Wrote 11 bytes.\nTrue"
    assert driver.text("dbutils.fs.head('/tmp/a.txt', 5)", context=ctx) == "'hello'"
    driver.text("dbutils.fs.mkdirs('dbfs:/tmp/sub')", context=ctx)
    assert driver.text("[(f.path, f.name, f.size) for f in dbutils.fs.ls('dbfs:/tmp')]", context=ctx) == \
        "[('dbfs:/tmp/a.txt', 'a.txt', 11), ('dbfs:/tmp/sub/', 'sub/', 0)]"
    finished = driver.run("dbutils.fs.put('dbfs:/tmp/a.txt', 'again')", context=ctx)
    assert "RESOURCE_ALREADY_EXISTS" in finished["results"]["summary"]
    # A file over 1 MiB goes through create/add-block/close and comes back intact.
    big = "big = ''.join(chr(97 + i % 26) for i in range(1_500_000))\ndbutils.fs.put('/tmp/sub/big.txt', big)\n"
    driver.text(big + "dbutils.fs.cp('dbfs:/tmp', '/Volumes/main/default/vol/copy', recurse=True)", context=ctx)
    assert kiln.files["/Volumes/main/default/vol/copy/sub/big.txt"] == kiln.files["/tmp/sub/big.txt"]
    assert len(kiln.files["/tmp/sub/big.txt"]) == 1_500_000
    assert driver.text("[f.name for f in dbutils.fs.ls('/Volumes/main/default/vol/copy')]", context=ctx) == "['a.txt', 'sub/']"
    assert driver.text("dbutils.fs.head('dbfs:/Volumes/main/default/vol/copy/a.txt')", context=ctx) == "'hello world'"
    driver.text("dbutils.fs.mv('dbfs:/tmp/a.txt', 'dbfs:/tmp/b.txt')", context=ctx)
    assert "/tmp/b.txt" in kiln.files and "/tmp/a.txt" not in kiln.files
    driver.text("dbutils.fs.mv('/tmp/b.txt', '/Volumes/main/default/vol/b.txt')", context=ctx)
    assert kiln.files.pop("/Volumes/main/default/vol/b.txt") == b"hello world" and "/tmp/b.txt" not in kiln.files
    driver.text("dbutils.fs.rm('/Volumes/main/default/vol/copy', recurse=True)", context=ctx)
    assert not [p for p in list(kiln.files) + list(kiln.dirs) if p.startswith("/Volumes/main/default/vol/copy")]
    finished = driver.run("dbutils.fs.ls('/Volumes/main/default/vol/copy')", context=ctx)
    assert "NOT_FOUND" in finished["results"]["summary"]


def test_spark_conf_and_catalog(driver, kiln, ctx):
    assert driver.text("spark.conf.set('a.b', '1')\nspark.conf.get('a.b'), spark.conf.get('x', 'd')", context=ctx) == "('1', 'd')"
    assert driver.text("spark.conf.get('a.b')", context=ctx + "-2") == ""
    driver.text("spark.catalog.setCurrentCatalog('dev')", context=ctx)
    assert kiln.requests[-1][3]["statement"] == "USE CATALOG `dev`"
    assert driver.text("spark.catalog.currentCatalog()", context=ctx) == "'dev'"


def test_unsupported_language(driver, ctx):
    assert driver.run("val x = 1", context=ctx, language="scala")["results"]["summary"].startswith("NotImplementedError")


def test_driver_exits_when_socket_closes(kiln):
    process = DriverProcess("http://127.0.0.1:%d" % kiln.server_address[1])
    try:
        worker_pid = int(process.text("import os\nos.getpid()"))
        process.submit("import time\ntime.sleep(30)")
        process.conn.shutdown(socket.SHUT_RDWR)
        assert process.proc.wait(timeout=15) == 0
        assert wait_until_gone(worker_pid, 5), "the driver left its context's process behind"
    finally:
        process.close()


def test_context_process_dies_with_its_driver(kiln):
    process = DriverProcess("http://127.0.0.1:%d" % kiln.server_address[1])
    try:
        worker_pid = int(process.text("import os\nos.getpid()"))
        assert worker_pid != process.proc.pid
        process.submit("import time\ntime.sleep(30)")
        process.proc.kill()
        process.proc.wait()
        assert wait_until_gone(worker_pid, 5), "a context's process outlived its driver"
    finally:
        process.close()


# Process per context.

def test_context_creation_time(kiln, capsys):
    # A driver of its own: the shared one's test client slows down as its history grows.
    process = DriverProcess("http://127.0.0.1:%d" % kiln.server_address[1])
    try:
        fresh, existing = [], []
        for number in range(9):
            started = time.monotonic()
            assert process.text("1", context=f"timed-{number}") == "1"
            fresh.append(time.monotonic() - started)
            started = time.monotonic()
            assert process.text("1", context=f"timed-{number}") == "1"
            existing.append(time.monotonic() - started)
        with open(process.log_path, encoding="utf-8") as log:
            forks = [float(ms) for ms in re.findall(r"forked in ([\d.]+) ms", log.read())]
    finally:
        process.close()
    with capsys.disabled():
        print(f"\n[context creation] first command on a fresh context: median {statistics.median(fresh) * 1000:.1f} ms "
              f"(max {max(fresh) * 1000:.1f} ms), of which fork: median {statistics.median(forks):.1f} ms; "
              f"a command on an existing context: median {statistics.median(existing) * 1000:.1f} ms")
    assert statistics.median(fresh) < 0.1


def test_contexts_run_concurrently(driver, ctx):
    first, second = ctx + "-a", ctx + "-b"
    for context in (first, second):  # their processes exist before the clock starts
        driver.text("import time", context=context)
    started = time.monotonic()
    commands = [driver.submit("time.sleep(1)\n'slept'", context=context) for context in (first, second)]
    for finished in driver.wait_finished(commands, timeout=5):
        assert finished["results"] == {"resultType": "text", "data": "'slept'"}
    assert time.monotonic() - started < 1.8, "the two contexts did not run at the same time"
    assert driver.text("import os\nos.getpid()", context=first) != driver.text("import os\nos.getpid()", context=second)


def test_context_process_exit_is_an_error_of_that_context_only(driver, ctx):
    other = ctx + "-other"
    driver.text("kept = 'intact'", context=other)
    pid_before = driver.text("import os\nos.getpid()", context=ctx)
    dying = driver.submit("import time\ntime.sleep(0.3)\nos._exit(3)", context=ctx)
    queued = driver.submit("never = 1", context=ctx)
    results = {"resultType": "error", "summary": "The execution context's Python process exited (exit code 3)", "cause": ""}
    for command_id in (dying, queued):
        finished = driver.wait_for("finished", command_id)
        assert finished == {"op": "finished", "command_id": command_id, "status": "Error", "results": results, "exit_value": None}
    assert driver.proc.poll() is None, "the driver died with the context"
    assert driver.text("kept", context=other) == "'intact'"
    finished = driver.run("os", context=ctx)
    assert finished["results"]["summary"] == "NameError: name 'os' is not defined", "the context starts afresh"
    assert driver.text("import os\nos.getpid()", context=ctx) != pid_before
    finished = driver.run("import ctypes\nctypes.string_at(0)", context=ctx)
    assert finished["status"] == "Error"
    assert finished["results"]["summary"] == "The execution context's Python process exited (exit code -11)"
    assert driver.text("kept", context=other) == "'intact'"


def test_cancel_in_one_context_leaves_another_running(driver, ctx):
    other = ctx + "-other"
    slow = driver.submit("import time\ntime.sleep(0.8)\n'done'", context=other)
    cancelled = driver.submit("import time\ntime.sleep(30)", context=ctx)
    driver.wait_for("started", cancelled)
    driver.send({"op": "cancel", "command_id": cancelled})
    cancelled_finished, slow_finished = driver.wait_finished([cancelled, slow], timeout=5)
    assert cancelled_finished["status"] == "Cancelled"
    assert slow_finished["results"]["data"] == "'done'"


def test_destroy_context_ends_its_process(driver, ctx):
    pid = int(driver.text("import os\nos.getpid()", context=ctx))
    running = driver.submit("import time\ntime.sleep(30)", context=ctx)
    queued = driver.submit("ran = True", context=ctx)
    driver.wait_for("started", running)
    driver.send({"op": "destroy_context", "context_id": ctx})
    assert driver.wait_for("finished", running, timeout=2)["status"] == "Cancelled"
    assert driver.next_message() == {"op": "finished", "command_id": queued, "status": "Cancelled", "results": None, "exit_value": None}
    assert wait_until_gone(pid, 2)
    assert driver.text("'ran' in globals()", context=ctx) == "False"


def test_destroy_context_kills_a_process_that_ignores_sigterm(driver, ctx):
    # Ignoring SIGTERM and holding the GIL (sum() over a range never lets other threads
    # run) leaves only SIGKILL.
    pid = int(driver.text("import os, signal\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\nos.getpid()", context=ctx))
    running = driver.submit("sum(range(10 ** 13))", context=ctx)
    driver.wait_for("started", running)
    time.sleep(0.1)
    started = time.monotonic()
    driver.send({"op": "destroy_context", "context_id": ctx})
    assert driver.wait_for("finished", running, timeout=2)["status"] == "Cancelled"
    assert driver.text("1", context=ctx) == "1", "a new process serves the context meanwhile"
    assert wait_until_gone(pid, 5)
    assert 1.5 < time.monotonic() - started < 4


# Notebooks as one command: cells, argv, task.

def test_cells(driver, ctx):
    cells = [{"language": "python", "code": "a = 20\nprint('first cell')"},
             {"language": "markdown", "code": "# not code"},
             {"language": "sql", "code": "SELECT people"}]
    finished = driver.run(None, context=ctx, cells=cells)
    assert finished["status"] == "Finished" and finished["results"]["resultType"] == "table"
    assert finished["results"]["data"] == [[1, "alice"], [2, None], [3, "a-very-long-name-that-is-truncated"]]
    cells = [{"language": "sql", "code": "SELECT people"}, {"language": "python", "code": "print('last')\na + 22"},
             {"language": "python", "code": "  \n"}]
    assert driver.run(None, context=ctx, cells=cells)["results"] == {"resultType": "text", "data": "last\n42"}


def test_cells_stop_at_the_first_error(driver, ctx):
    cells = [{"language": "python", "code": "before = 1"}, {"language": "python", "code": "print('x')\n1 / 0"},
             {"language": "python", "code": "after = 1"}]
    finished = driver.run(None, context=ctx, cells=cells)
    assert finished["status"] == "Finished" and finished["exit_value"] is None
    assert finished["results"]["resultType"] == "error"
    assert finished["results"]["summary"] == "ZeroDivisionError: division by zero"
    assert "1 / 0" in finished["results"]["cause"]
    assert driver.text("'before' in globals(), 'after' in globals()", context=ctx) == "(True, False)"


def test_cells_end_at_notebook_exit(driver, ctx):
    cells = [{"language": "python", "code": "print('a')"}, {"language": "python", "code": "dbutils.notebook.exit('mid')"},
             {"language": "python", "code": "late = 1"}]
    finished = driver.run(None, context=ctx, cells=cells)
    assert finished["status"] == "Finished" and finished["exit_value"] == "mid"
    assert finished["results"] == {"resultType": "text", "data": "mid"}
    assert driver.text("'late' in globals()", context=ctx) == "False"


def test_cancel_during_cells(driver, ctx):
    cells = [{"language": "python", "code": "import time\ntime.sleep(30)"}, {"language": "python", "code": "after = 1"}]
    command_id = driver.submit(None, context=ctx, cells=cells)
    driver.wait_for("started", command_id)
    time.sleep(0.2)
    driver.send({"op": "cancel", "command_id": command_id})
    assert driver.wait_for("finished", command_id, timeout=5)["status"] == "Cancelled"
    assert driver.text("'after' in globals()", context=ctx) == "False"


def test_argv(driver, ctx):
    driver.text("import sys\noriginal = list(sys.argv)", context=ctx)
    assert driver.text("sys.argv", context=ctx, argv=["a", "b"]) == "['python', 'a', 'b']"
    assert driver.text("sys.argv", context=ctx, argv=["--n", 1], task=TASK) == "['/Users/me/jobs/main', '--n', '1']"
    cells = [{"language": "python", "code": "seen = list(sys.argv)"}, {"language": "python", "code": "seen"}]
    assert driver.run(None, context=ctx, argv=["x"], cells=cells)["results"]["data"] == "['python', 'x']"
    assert driver.text("sys.argv == original", context=ctx) == "True", "argv is restored after the command"


# dbutils.jobs.taskValues

def test_task_values_in_a_job(driver, kiln, ctx):
    assert driver.text("dbutils.jobs.taskValues.set('rows', {'count': 3, 'names': ['a']})", context=ctx, task=TASK) == ""
    assert kiln.requests[-1] == ("POST", "/api/2.0/kiln/jobs/task-values", "Bearer " + driver.tokens[-1],
                                 {"run_id": 70, "task_key": "ingest", "key": "rows", "value": '{"count": 3, "names": ["a"]}'})
    assert driver.text("dbutils.jobs.taskValues.get('ingest', 'rows')", context=ctx + "-next", task=TASK) == \
        "{'count': 3, 'names': ['a']}"
    assert kiln.requests[-1][2] == "Bearer " + driver.tokens[-1]
    assert driver.text("dbutils.jobs.taskValues.get(taskKey='ingest', key='nope', default=0, debugValue=5)",
                       context=ctx, task=TASK) == "0"
    finished = driver.run("dbutils.jobs.taskValues.get('other', 'rows')", context=ctx, task=TASK)
    assert finished["results"]["summary"] == "ValueError: No task value with key rows for task other"
    finished = driver.run("dbutils.jobs.taskValues.set('bad', object())", context=ctx, task=TASK)
    assert finished["results"]["summary"].startswith("TypeError: The value of task value 'bad' is not JSON serializable")
    finished = driver.run("dbutils.jobs.taskValues.set('big', 'x' * 49152)", context=ctx, task=TASK)
    assert finished["results"]["summary"].startswith("ValueError: The value of task value 'big' is 49154 bytes as JSON")
    driver.text("dbutils.jobs.taskValues.set('edge', 'x' * 49150)", context=ctx, task=TASK)  # exactly 48 KiB


def test_task_values_outside_a_job(driver, kiln, ctx):
    calls = len(kiln.requests)
    assert driver.text("print(dbutils.jobs.taskValues.set('k', [1, 2]))", context=ctx) == "None"
    assert driver.text("dbutils.jobs.taskValues.get('t', 'k', default=1, debugValue='dbg')", context=ctx) == "'dbg'"
    assert len(kiln.requests) == calls, "outside a job, task values stay local"
    finished = driver.run("dbutils.jobs.taskValues.get('t', 'k', default=1)", context=ctx)
    assert finished["results"]["summary"] == \
        "TypeError: Must pass debugValue when calling get outside of a job context. debugValue cannot be None."
    finished = driver.run("dbutils.jobs.taskValues.set('k', float('nan'))", context=ctx)
    assert finished["results"]["summary"].startswith("TypeError:")
    assert "taskValues" in driver.text("dbutils.jobs.help()", context=ctx)
    assert "taskValues" in driver.text("dbutils.jobs.taskValues.help()", context=ctx)
    assert "jobs:" in driver.text("dbutils.help()", context=ctx)


def test_task_is_per_command(driver, ctx):
    driver.text("dbutils.jobs.taskValues.set('k', 1)", context=ctx, task=TASK)
    finished = driver.run("dbutils.jobs.taskValues.get('ingest', 'k')", context=ctx)
    assert finished["results"]["summary"].startswith("TypeError: Must pass debugValue")


# dbutils.notebook.run

def test_notebook_run_returns_the_exit_value(driver, kiln, ctx):
    code = "dbutils.notebook.run('./child_ok', 60, {'n': 5, 'name': 'x'})"
    assert driver.text(code, context=ctx, task=TASK) == "'child says hi'"
    submit = [r for r in kiln.requests if r[1] == "/api/2.1/jobs/runs/submit"][-1]
    assert submit[2] == "Bearer " + driver.tokens[-1]
    assert submit[3] == {"run_name": "notebook.run ./child_ok", "timeout_seconds": 60, "tasks": [{
        "task_key": "notebook_run", "existing_cluster_id": "cluster-1",
        "notebook_task": {"notebook_path": "/Users/me/jobs/child_ok", "base_parameters": {"n": "5", "name": "x"},
                          "source": "WORKSPACE"}}]}
    run_id = max(kiln.runs)
    assert kiln.runs[run_id]["polls"] >= 2, "the run was polled until it terminated"
    output_query = [r for r in kiln.requests if r[1] == "/api/2.1/jobs/runs/get-output"]
    assert output_query, "the output was fetched"
    assert driver.text("dbutils.notebook.run('/Shared/child_no_result') is None", context=ctx) == "True"


def test_notebook_run_resolves_relative_paths(driver, kiln, ctx):
    def submitted_path():
        return [r for r in kiln.requests if r[1] == "/api/2.1/jobs/runs/submit"][-1][3]["tasks"][0]["notebook_task"]["notebook_path"]
    for path, resolved in [("child_ok", "/Users/me/jobs/child_ok"), ("../shared/./child_ok", "/Users/me/shared/child_ok"),
                           ("/Shared/x/../child_ok", "/Shared/child_ok")]:
        assert driver.text(f"dbutils.notebook.run({path!r}, 0)", context=ctx, task=TASK) == "'child says hi'"
        assert submitted_path() == resolved
    assert driver.text("dbutils.notebook.run('/Shared/child_ok')", context=ctx) == "'child says hi'"
    finished = driver.run("dbutils.notebook.run('./child_ok', 0)", context=ctx)
    assert finished["results"]["summary"].startswith("ValueError: Cannot run notebook './child_ok': a relative path needs a notebook context")


def test_notebook_run_failures(driver, kiln, ctx):
    finished = driver.run("dbutils.notebook.run('/Shared/child_fail', 0)", context=ctx)
    run_id = max(kiln.runs)
    assert finished["status"] == "Finished"
    assert finished["results"]["summary"] == \
        f"NotebookRunError: Notebook run {run_id} of /Shared/child_fail failed: ZeroDivisionError: division by zero"
    finished = driver.run("dbutils.notebook.run('/Shared/child_lost', 0)", context=ctx)
    assert finished["results"]["summary"] == \
        f"NotebookRunError: Notebook run {max(kiln.runs)} of /Shared/child_lost failed: The cluster was lost"
    code = ("try:\n    dbutils.notebook.run('/Shared/child_fail', 0)\nexcept Exception as err:\n"
            "    print(type(err).__name__, err.run_id)")
    assert driver.text(code, context=ctx) == f"NotebookRunError {max(kiln.runs)}"


def test_cancel_while_notebook_run_waits_cancels_the_child_run(driver, kiln, ctx):
    command_id = driver.submit("dbutils.notebook.run('/Shared/child_slow', 0)", context=ctx)
    driver.wait_for("started", command_id)
    deadline = time.monotonic() + 5
    while not any(run["path"] == "/Shared/child_slow" and run["polls"] for run in list(kiln.runs.values())):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    run_id = max(kiln.runs)
    driver.send({"op": "cancel", "command_id": command_id})
    assert driver.wait_for("finished", command_id, timeout=5)["status"] == "Cancelled"
    assert kiln.cancelled_runs[-1] == run_id


def test_notebook_run_child_runs_on_the_same_cluster(driver, kiln, ctx):
    # The fake server runs the child the way Kiln does: as a command in a new context of
    # this very driver, while the parent's command still waits for it.
    child_context = ctx + "-child"

    def start_child(body):
        task = body["tasks"][0]
        command_id = driver.submit("dbutils.notebook.exit('child got ' + dbutils.widgets.get('n'))", context=child_context,
                                   widgets=task["notebook_task"]["base_parameters"],
                                   task=dict(TASK, notebook_path=task["notebook_task"]["notebook_path"]))
        return lambda: driver.finished.get(command_id)
    kiln.start_child = start_child
    try:
        assert driver.text("dbutils.notebook.run('/Shared/real_child', 30, {'n': 7})", context=ctx) == "'child got 7'"
    finally:
        kiln.start_child = None
