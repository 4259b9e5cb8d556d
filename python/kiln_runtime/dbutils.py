"""`dbutils` for Kiln notebooks: widgets, fs (DBFS and volumes), secrets, jobs.taskValues,
notebook.exit and notebook.run.

fs, secrets, task values and notebook runs call the Kiln REST API with the running
command's token. Widget definitions live with the context; parameter values come with
each command, and so does the job task (if any) the command runs as.
"""

import base64
import collections
import email.utils
import json
import posixpath
import re
import time
import urllib.parse

from .client import KilnRestError

FileInfo = collections.namedtuple("FileInfo", "path name size modificationTime")
SecretMetadata = collections.namedtuple("SecretMetadata", "key")
SecretScope = collections.namedtuple("SecretScope", "name")
Widget = collections.namedtuple("Widget", "kind default choices label")

DBFS_BLOCK = 1 << 20  # DBFS put, read and add-block take at most 1 MiB each
MAX_TASK_VALUE_BYTES = 48 * 1024  # Databricks' limit on a task value's JSON
TASK_VALUES_PATH = "/api/2.0/kiln/jobs/task-values"
RUN_FINAL_STATES = ("TERMINATED", "SKIPPED", "INTERNAL_ERROR")
FIRST_POLL_SECONDS = 0.05
MAX_POLL_SECONDS = 1.0
_MISSING = object()


class NotebookExit(BaseException):
    """Raised by dbutils.notebook.exit(); a BaseException so `except Exception` lets it through."""

    def __init__(self, value):
        super().__init__(value)
        self.value = value


class NotebookRunError(Exception):
    """The notebook started by dbutils.notebook.run() did not succeed."""

    def __init__(self, message, run_id):
        super().__init__(message)
        self.run_id = run_id


class InputWidgetNotDefined(Exception):
    def __init__(self, name):
        super().__init__(f"InputWidgetNotDefined: No input widget named {name} is defined")


class _Group:
    _HELP = ""

    def help(self, *_):
        print(self._HELP.strip("\n"))


class WidgetsUtils(_Group):
    _HELP = """
dbutils.widgets: notebook parameters
  text(name, defaultValue, label=None)
  dropdown(name, defaultValue, choices, label=None)
  combobox(name, defaultValue, choices, label=None)
  multiselect(name, defaultValue, choices, label=None)
  get(name) -> str; getArgument(name, defaultValue=None) -> str; getAll() -> dict
  remove(name); removeAll()
"""

    def __init__(self):
        self._defined = {}
        self._params = {}  # values passed with the running command only

    def _bind_params(self, params):
        self._params = {str(name): value for name, value in (params or {}).items()}

    def _define(self, kind, name, defaultValue, choices, label, default_in_choices):
        name, default = str(name), str(defaultValue)
        if choices is not None:
            choices = [str(choice) for choice in choices]
            if default_in_choices and default not in choices:
                raise ValueError(f"Default value {default!r} of widget {name!r} is not one of its choices {choices}")
        self._defined[name] = Widget(kind, default, choices, label)

    def text(self, name, defaultValue, label=None):
        self._define("text", name, defaultValue, None, label, False)

    def dropdown(self, name, defaultValue, choices, label=None):
        self._define("dropdown", name, defaultValue, choices, label, True)

    def combobox(self, name, defaultValue, choices, label=None):
        self._define("combobox", name, defaultValue, choices, label, False)

    def multiselect(self, name, defaultValue, choices, label=None):
        self._define("multiselect", name, defaultValue, choices, label, True)

    def _lookup(self, name):
        if name in self._params:
            return self._params[name]
        widget = self._defined.get(name)
        return _MISSING if widget is None else widget.default

    def get(self, name):
        value = self._lookup(name)
        if value is _MISSING:
            raise InputWidgetNotDefined(name)
        return value

    def getArgument(self, name, defaultValue=None):
        value = self._lookup(name)
        return defaultValue if value is _MISSING else value

    def getAll(self):
        values = {name: widget.default for name, widget in self._defined.items()}
        values.update(self._params)
        return values

    def remove(self, name):
        if self._defined.pop(name, None) is None:
            raise InputWidgetNotDefined(name)

    def removeAll(self):
        self._defined.clear()


def _basename(path):
    return path.rstrip("/").rsplit("/", 1)[-1]


def _join(directory, name):
    return directory.rstrip("/") + "/" + name


_Stat = collections.namedtuple("_Stat", "is_dir size mtime")


class _Dbfs:
    """DBFS 2.0 (`/api/2.0/dbfs/...`); paths are absolute without the dbfs: scheme."""

    def __init__(self, client):
        self._client = client

    @staticmethod
    def display(path, is_dir=False):
        return "dbfs:" + path + ("/" if is_dir and not path.endswith("/") else "")

    def stat(self, path):
        try:
            status = self._client.call("GET", "/api/2.0/dbfs/get-status", query={"path": path})
        except KilnRestError as err:
            if err.status == 404:
                return None
            raise
        return _Stat(bool(status.get("is_dir")), status.get("file_size", 0), status.get("modification_time", 0))

    def list(self, path):
        files = self._client.call("GET", "/api/2.0/dbfs/list", query={"path": path}).get("files") or []
        return [FileInfo(self.display(f["path"], f.get("is_dir")), _basename(f["path"]) + ("/" if f.get("is_dir") else ""),
                         f.get("file_size", 0), f.get("modification_time", 0)) for f in files]

    def read(self, path, limit=None):
        chunks, offset = [], 0
        while limit is None or offset < limit:
            length = DBFS_BLOCK if limit is None else min(DBFS_BLOCK, limit - offset)
            answer = self._client.call("GET", "/api/2.0/dbfs/read", query={"path": path, "offset": offset, "length": length})
            read = answer.get("bytes_read", 0)
            if not read:
                break
            chunks.append(base64.b64decode(answer.get("data", "")))
            offset += read
            if read < length:
                break
        return b"".join(chunks)

    def write(self, path, data, overwrite):
        if len(data) <= DBFS_BLOCK:
            body = {"path": path, "contents": base64.b64encode(data).decode("ascii"), "overwrite": overwrite}
            self._client.call("POST", "/api/2.0/dbfs/put", body=body)
            return
        handle = self._client.call("POST", "/api/2.0/dbfs/create", body={"path": path, "overwrite": overwrite})["handle"]
        try:
            for start in range(0, len(data), DBFS_BLOCK):
                block = base64.b64encode(data[start:start + DBFS_BLOCK]).decode("ascii")
                self._client.call("POST", "/api/2.0/dbfs/add-block", body={"handle": handle, "data": block})
        finally:
            self._client.call("POST", "/api/2.0/dbfs/close", body={"handle": handle})

    def mkdirs(self, path):
        self._client.call("POST", "/api/2.0/dbfs/mkdirs", body={"path": path})

    def delete(self, path, recursive):
        self._client.call("POST", "/api/2.0/dbfs/delete", body={"path": path, "recursive": recursive})

    def move(self, source, destination):
        self._client.call("POST", "/api/2.0/dbfs/move", body={"source_path": source, "destination_path": destination})


class _Volumes:
    """The Files API (`/api/2.0/fs/files` and `/api/2.0/fs/directories`) for /Volumes paths."""

    def __init__(self, client):
        self._client = client

    @staticmethod
    def display(path, is_dir=False):
        return path + ("/" if is_dir and not path.endswith("/") else "")

    @staticmethod
    def _url(kind, path):
        return f"/api/2.0/fs/{kind}" + urllib.parse.quote(path, safe="/")

    def _file_stat(self, path):
        try:
            _, headers, _ = self._client.request("HEAD", self._url("files", path))
        except KilnRestError as err:
            if err.status == 404:
                return None
            raise
        modified = headers.get("Last-Modified")
        mtime = int(email.utils.parsedate_to_datetime(modified).timestamp() * 1000) if modified else 0
        return _Stat(False, int(headers.get("Content-Length") or 0), mtime)

    def stat(self, path):
        found = self._file_stat(path)
        if found is not None:
            return found
        try:
            self._client.call("GET", self._url("directories", path))
        except KilnRestError as err:
            if err.status == 404:
                return None
            raise
        return _Stat(True, 0, 0)

    def list(self, path):
        entries, page_token = [], None
        try:
            while True:
                query = {"page_token": page_token} if page_token else None
                answer = self._client.call("GET", self._url("directories", path), query=query)
                for entry in answer.get("contents") or []:
                    is_dir = bool(entry.get("is_directory"))
                    name = entry.get("name") or _basename(entry["path"])
                    entries.append(FileInfo(self.display(entry["path"].rstrip("/"), is_dir), name + ("/" if is_dir else ""),
                                            entry.get("file_size", 0), entry.get("last_modified", 0)))
                page_token = answer.get("next_page_token")
                if not page_token:
                    return entries
        except KilnRestError as err:
            # Like DBFS, listing a file lists just that file.
            found = self._file_stat(path) if err.status == 404 else None
            if found is None:
                raise
            return [FileInfo(path, _basename(path), found.size, found.mtime)]

    def read(self, path, limit=None):
        if limit == 0:
            return b""
        headers = {"Range": f"bytes=0-{limit - 1}"} if limit else None
        _, _, body = self._client.request("GET", self._url("files", path), headers=headers)
        return body[:limit] if limit else body

    def write(self, path, data, overwrite):
        self._client.request("PUT", self._url("files", path), query={"overwrite": "true" if overwrite else "false"},
                             data=data, headers={"Content-Type": "application/octet-stream"})

    def mkdirs(self, path):
        self._client.request("PUT", self._url("directories", path))

    def delete(self, path, recursive):
        if self._file_stat(path) is not None:
            self._client.request("DELETE", self._url("files", path))
            return
        if recursive:  # the Files API only deletes empty directories
            for entry in self.list(path):
                self.delete(_join(path, entry.name.rstrip("/")), True)
        self._client.request("DELETE", self._url("directories", path))


class FsUtils(_Group):
    _HELP = """
dbutils.fs: files in DBFS (dbfs:/...) and Unity Catalog volumes (/Volumes/...)
  ls(dir) -> [FileInfo]; head(file, maxBytes=65536) -> str
  put(file, contents, overwrite=False); mkdirs(dir)
  cp(from_, to, recurse=False); mv(from_, to, recurse=False); rm(dir, recurse=False)
"""

    def __init__(self, client):
        self._dbfs = _Dbfs(client)
        self._volumes = _Volumes(client)

    def _resolve(self, path):
        path = str(path)
        if path.startswith("dbfs:"):
            path = path[len("dbfs:"):]
        elif re.match(r"^[A-Za-z][\w+.-]*:", path):
            raise ValueError(f"Unsupported path {path!r}: use dbfs:/... or /Volumes/...")
        path = "/" + "/".join(part for part in path.split("/") if part)
        backend = self._volumes if path == "/Volumes" or path.startswith("/Volumes/") else self._dbfs
        return backend, path

    def ls(self, dir):
        backend, path = self._resolve(dir)
        return backend.list(path)

    def head(self, file, maxBytes=65536):
        backend, path = self._resolve(file)
        return backend.read(path, limit=maxBytes).decode("utf-8", errors="replace")

    def put(self, file, contents, overwrite=False):
        backend, path = self._resolve(file)
        data = contents.encode("utf-8")
        backend.write(path, data, overwrite)
        print(f"Wrote {len(data)} bytes.")
        return True

    def mkdirs(self, dir):
        backend, path = self._resolve(dir)
        backend.mkdirs(path)
        return True

    def rm(self, dir, recurse=False):
        backend, path = self._resolve(dir)
        backend.delete(path, recurse)
        return True

    def cp(self, from_, to, recurse=False):
        self._copy(self._resolve(from_), self._resolve(to), recurse)
        return True

    def mv(self, from_, to, recurse=False):
        (source, source_path), (target, target_path) = self._resolve(from_), self._resolve(to)
        if source is self._dbfs and target is self._dbfs:
            source.move(source_path, target_path)
        else:
            self._copy((source, source_path), (target, target_path), recurse)
            source.delete(source_path, recurse)
        return True

    def _copy(self, source_ref, target_ref, recurse):
        (source, source_path), (target, target_path) = source_ref, target_ref
        found = source.stat(source_path)
        if found is None:
            raise FileNotFoundError(f"No such file or directory: {source.display(source_path)}")
        if not found.is_dir:
            target.write(target_path, source.read(source_path), True)
            return
        if not recurse:
            raise ValueError(f"{source.display(source_path, True)} is a directory; pass recurse=True to copy it")
        target.mkdirs(target_path)
        for entry in source.list(source_path):
            name = entry.name.rstrip("/")
            self._copy((source, _join(source_path, name)), (target, _join(target_path, name)), True)


class SecretsUtils(_Group):
    _HELP = """
dbutils.secrets: secret values (always shown as [REDACTED] in results)
  get(scope, key) -> str; getBytes(scope, key) -> bytes
  list(scope) -> [SecretMetadata]; listScopes() -> [SecretScope]
"""

    def __init__(self, client, remember_secret):
        self._client = client
        self._remember = remember_secret

    def getBytes(self, scope, key):
        answer = self._client.call("GET", "/api/2.0/secrets/get", query={"scope": scope, "key": key})
        value = base64.b64decode(answer.get("value") or "")
        try:
            self._remember(value.decode("utf-8"))
        except UnicodeDecodeError:
            pass
        return value

    def get(self, scope, key):
        value = self.getBytes(scope, key).decode("utf-8", errors="replace")
        self._remember(value)
        return value

    def list(self, scope):
        answer = self._client.call("GET", "/api/2.0/secrets/list", query={"scope": scope})
        return [SecretMetadata(secret["key"]) for secret in answer.get("secrets") or []]

    def listScopes(self):
        answer = self._client.call("GET", "/api/2.0/secrets/scopes/list")
        return [SecretScope(scope["name"]) for scope in answer.get("scopes") or []]


class TaskValuesUtils(_Group):
    _HELP = """
dbutils.jobs.taskValues: values passed between the tasks of a job run
  set(key, value): value must be JSON serializable, at most 48 KiB as JSON; ignored outside a job
  get(taskKey, key, default=None, debugValue=None): the value task taskKey of this run set;
    default if it set none; outside a job, debugValue
"""

    def __init__(self, client, current_task):
        self._client = client
        self._current_task = current_task

    def set(self, key, value):
        try:
            text = json.dumps(value, allow_nan=False)
        except (TypeError, ValueError) as err:  # ValueError: NaN or a circular reference
            raise TypeError(f"The value of task value {key!r} is not JSON serializable: {err}") from None
        size = len(text.encode("utf-8"))
        if size > MAX_TASK_VALUE_BYTES:
            raise ValueError(f"The value of task value {key!r} is {size} bytes as JSON; "
                             f"at most {MAX_TASK_VALUE_BYTES} bytes (48 KiB) are allowed")
        task = self._current_task()
        if task is None:  # as on Databricks, setting a value outside a job does nothing
            return None
        self._client.call("POST", TASK_VALUES_PATH, body={"run_id": task.get("run_id"), "task_key": task.get("task_key"),
                                                          "key": key, "value": text})
        return None

    def get(self, taskKey, key, default=None, debugValue=None):
        task = self._current_task()
        if task is None:
            if debugValue is None:
                raise TypeError("Must pass debugValue when calling get outside of a job context. debugValue cannot be None.")
            return debugValue
        query = {"run_id": task.get("run_id"), "task_key": taskKey, "key": key}
        try:
            answer = self._client.call("GET", TASK_VALUES_PATH, query=query)
        except KilnRestError as err:
            if err.status != 404:
                raise
            if default is not None:
                return default
            raise ValueError(f"No task value with key {key} for task {taskKey}") from None
        return json.loads(answer["value"])


class JobsUtils(_Group):
    _HELP = """
dbutils.jobs: utilities of job runs
  taskValues: values passed between the tasks of a job run (dbutils.jobs.taskValues.help())
"""

    def __init__(self, client, current_task):
        self.taskValues = TaskValuesUtils(client, current_task)


def resolve_notebook_path(path, current_notebook):
    """An absolute workspace path; a relative one is taken from the current notebook's folder."""
    path = str(path)
    if path.startswith("/"):
        return posixpath.normpath(path)
    if not current_notebook:
        raise ValueError(f"Cannot run notebook {path!r}: a relative path needs a notebook context "
                         "(a notebook job task); pass an absolute workspace path instead")
    return posixpath.normpath(posixpath.join(posixpath.dirname(current_notebook), path))


class NotebookUtils(_Group):
    _HELP = """
dbutils.notebook: notebook workflow
  exit(value): end this command with value as its exit value
  run(path, timeout_seconds=0, arguments=None) -> str: run another notebook on this cluster
    as a child run, with arguments as its widget values, and return its exit value
"""

    def __init__(self, client, current_task, cluster_id):
        self._client = client
        self._current_task = current_task
        self._cluster_id = cluster_id

    def exit(self, value):
        raise NotebookExit(value)

    def run(self, path, timeout_seconds=0, arguments=None):
        notebook = resolve_notebook_path(path, (self._current_task() or {}).get("notebook_path"))
        parameters = {str(name): str(value) for name, value in (arguments or {}).items()}
        body = {"run_name": f"notebook.run {path}", "timeout_seconds": int(timeout_seconds), "tasks": [{
            "task_key": "notebook_run", "existing_cluster_id": self._cluster_id,
            "notebook_task": {"notebook_path": notebook, "base_parameters": parameters, "source": "WORKSPACE"}}]}
        run_id = self._client.call("POST", "/api/2.1/jobs/runs/submit", body=body)["run_id"]
        try:
            return self._outcome(run_id, notebook, self._wait_for(run_id))
        except KeyboardInterrupt:
            # The calling command was cancelled: the child run must not go on without it.
            try:
                self._client.call("POST", "/api/2.1/jobs/runs/cancel", body={"run_id": run_id})
            except Exception:  # noqa: BLE001 - the cancel of the command wins over this failure
                pass
            raise

    def _wait_for(self, run_id):
        delay = FIRST_POLL_SECONDS
        while True:
            run = self._client.call("GET", "/api/2.1/jobs/runs/get", query={"run_id": run_id})
            if (run.get("state") or {}).get("life_cycle_state") in RUN_FINAL_STATES:
                return run
            time.sleep(delay)
            delay = min(delay * 2, MAX_POLL_SECONDS)

    def _outcome(self, run_id, notebook, run):
        state = run.get("state") or {}
        tasks = run.get("tasks") or [{}]
        succeeded = (state.get("result_state") or (tasks[0].get("state") or {}).get("result_state")) == "SUCCESS"
        try:
            output = self._client.call("GET", "/api/2.1/jobs/runs/get-output", query={"run_id": tasks[0].get("run_id", run_id)})
        except KilnRestError:
            if succeeded:
                raise
            output = {}  # the run's state still says why it failed
        if succeeded:
            return (output.get("notebook_output") or {}).get("result")
        reason = output.get("error") or state.get("state_message") or state.get("result_state") or state.get("life_cycle_state")
        raise NotebookRunError(f"Notebook run {run_id} of {notebook} failed: {reason}", run_id)


class DBUtils(_Group):
    _HELP = """
dbutils: utilities of a Kiln notebook; call dbutils.<group>.help() for details
  fs: DBFS and volume files
  jobs: task values of job runs
  notebook: exit a command with a value, run another notebook
  secrets: read secrets (redacted in results)
  widgets: notebook parameters
"""

    def __init__(self, client, remember_secret, current_task, cluster_id):
        self.fs = FsUtils(client)
        self.jobs = JobsUtils(client, current_task)
        self.notebook = NotebookUtils(client, current_task, cluster_id)
        self.secrets = SecretsUtils(client, remember_secret)
        self.widgets = WidgetsUtils()

    def __repr__(self):
        return "<kiln_runtime.dbutils.DBUtils>"
