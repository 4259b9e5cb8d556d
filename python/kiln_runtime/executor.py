"""Runs one command in its context and builds the Command Execution 1.2 `results`.

A context keeps the globals, widgets, Spark state and fetched secrets of one execution
context; each context lives in its own worker process (see driver.py). A command is one
cell (`code`) or a whole notebook (`cells`, run one after the other). A command's stdout
and stderr are captured into its result, the value of a final expression is shown as in
Jupyter, and every secret value (and the command's token) is replaced by [REDACTED] in
whatever leaves the worker.
"""

import ast
import base64
import builtins
import datetime
import decimal
import io
import json
import linecache
import math
import os
import sys
import textwrap
import traceback

from .client import KilnClient
from .dbutils import DBUtils, NotebookExit
from .spark import DataFrame, SparkSession, spark_json_type

MAX_TABLE_ROWS = 10000
REDACTED = "[REDACTED]"
# The token is redacted too, as a safety net; shorter strings are not real tokens and
# redacting them would mangle ordinary output.
MIN_REDACTED_TOKEN = 8
# Notebook cells that are not code; a notebook run skips them as Databricks does.
TEXT_LANGUAGES = ("markdown", "md")
_PACKAGE_DIR = os.path.dirname(os.path.abspath(__file__)) + os.sep


class Context:
    def __init__(self, context_id, host, cluster_id):
        self.context_id = context_id
        self.token = None
        self.task = None  # the `task` of the running command when it runs as a job task
        self.secret_values = set()
        self.displayed = None
        client = KilnClient(host, lambda: self.token)
        self.spark = SparkSession(client, cluster_id)
        self.dbutils = DBUtils(client, self.secret_values.add, lambda: self.task, cluster_id)
        self.globals = {
            "__name__": "__main__",
            "__builtins__": builtins,
            "spark": self.spark,
            "dbutils": self.dbutils,
            "display": self.display,
        }

    def display(self, obj=None, *args, **kwargs):
        """A DataFrame becomes the command's table result; anything else is printed."""
        if isinstance(obj, DataFrame):
            self.displayed = obj
        else:
            print(obj)

    def redactor(self):
        values = {v for v in self.secret_values if v}
        if self.token and len(self.token) >= MIN_REDACTED_TOKEN:
            values.add(self.token)
        values = sorted(values, key=len, reverse=True)

        def redact(text):
            for value in values:
                text = text.replace(value, REDACTED)
            return text
        return redact


def split_sql(code):
    """Splits a SQL cell on `;` outside quotes and comments; drops empty statements."""
    statements, current, has_content = [], [], False
    i, n = 0, len(code)
    while i < n:
        ch = code[i]
        if ch in "'\"`":
            end = i + 1
            while end < n and code[end] != ch:
                end += 2 if code[end] == "\\" and ch != "`" else 1
            current.append(code[i:end + 1])
            has_content, i = True, end + 1
        elif code.startswith("--", i):
            end = code.find("\n", i)
            end = n if end < 0 else end
            current.append(code[i:end])
            i = end
        elif code.startswith("/*", i):
            end = code.find("*/", i + 2)
            end = n if end < 0 else end + 2
            current.append(code[i:end])
            i = end
        elif ch == ";":
            if has_content:
                statements.append("".join(current).strip())
            current, has_content, i = [], False, i + 1
        else:
            current.append(ch)
            has_content = has_content or not ch.isspace()
            i += 1
    if has_content:
        statements.append("".join(current).strip())
    return statements


def _json_cell(value, redact):
    """One table cell as JSON: strings redacted, dates ISO, Decimal str, bytes base64."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, bool) or value is None or isinstance(value, int):
        return value
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        return value if math.isfinite(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, (list, tuple)):
        return [_json_cell(item, redact) for item in value]
    if isinstance(value, dict):
        return {redact(str(key)): _json_cell(item, redact) for key, item in value.items()}
    return redact(str(value))


def table_result(df, redact):
    rows = df._rows
    return {
        "resultType": "table",
        "data": [[_json_cell(value, redact) for value in row] for row in rows[:MAX_TABLE_ROWS]],
        "schema": [{"name": c.name, "type": json.dumps(spark_json_type(c)), "metadata": "{}"} for c in df._columns],
        "truncated": len(rows) > MAX_TABLE_ROWS,
        "isJsonSchema": True,
    }


def _summary(exc):
    name, message = type(exc).__name__, str(exc)
    if not message:
        return name
    return message if message.startswith(name + ":") else f"{name}: {message}"


def _drop_internal_frames(te, seen):
    if te is None or id(te) in seen:
        return
    seen.add(id(te))
    te.stack = traceback.StackSummary.from_list([f for f in te.stack if not f.filename.startswith(_PACKAGE_DIR)])
    for nested in [te.__cause__, te.__context__] + list(getattr(te, "exceptions", None) or []):
        _drop_internal_frames(nested, seen)


def format_user_traceback(exc):
    """The traceback as Python prints it, minus the frames of this runtime."""
    te = traceback.TracebackException(type(exc), exc, exc.__traceback__)
    _drop_internal_frames(te, set())
    return "".join(te.format())


class Executor:
    """Runs the commands of one execution context, one at a time, in the calling thread."""

    def __init__(self, host, cluster_id, context_id):
        self.context = Context(context_id, host, cluster_id)
        # Read by the worker's SIGINT handler: a cancel only interrupts user code.
        self.in_user_code = False
        self.cancel_requested = False

    def execute(self, command):
        """Runs one execute message; returns (status, results, exit_value)."""
        context = self.context
        context.token = command.get("token")
        task = command.get("task")
        context.task = task if isinstance(task, dict) else None
        context.displayed = None
        context.dbutils.widgets._bind_params(command.get("widgets"))
        output = io.StringIO()
        saved_streams = sys.stdin, sys.stdout, sys.stderr
        saved_argv = sys.argv
        try:
            sys.stdin, sys.stdout, sys.stderr = io.StringIO(), output, output
            argv = command.get("argv")
            if argv is not None:
                program = (context.task or {}).get("notebook_path") or "python"
                sys.argv = [program] + [str(arg) for arg in argv]
            try:
                self._run_user_code(context, command, output)
            finally:
                sys.stdin, sys.stdout, sys.stderr = saved_streams
                sys.argv = saved_argv
        except KeyboardInterrupt:
            return "Cancelled", None, None
        except NotebookExit as exit_request:
            # As on Databricks, the exit value is the command's result (the SDK's remote
            # dbutils reads it from there).
            redact = context.redactor()
            value = redact(str(exit_request.value))
            return "Finished", {"resultType": "text", "data": value}, value
        except BaseException as exc:  # noqa: B902 - SystemExit and friends are user errors too
            redact = context.redactor()
            # As on Databricks, code that raised still finished; its result is the error.
            return "Finished", {"resultType": "error", "summary": redact(_summary(exc)),
                             "cause": redact(format_user_traceback(exc))}, None
        finally:
            context.dbutils.widgets._bind_params(None)
            context.task = None
        redact = context.redactor()
        if context.displayed is not None:
            return "Finished", table_result(context.displayed, redact), None
        return "Finished", self._text_result(output, redact), None

    @staticmethod
    def _text_result(output, redact):
        text = output.getvalue()
        return {"resultType": "text", "data": redact(text[:-1] if text.endswith("\n") else text)}

    def _run_user_code(self, context, command, output):
        self.in_user_code = True
        try:
            if self.cancel_requested:  # the cancel came before the code started
                raise KeyboardInterrupt
            command_id = command.get("command_id", "")
            cells = command.get("cells")
            if cells is None:
                self._run_cell(context, command.get("language"), command.get("code") or "", f"<command-{command_id}>")
                return
            for number, cell in enumerate(cells, 1):
                if not isinstance(cell, dict):
                    raise TypeError(f"cells[{number - 1}] of the command is not an object")
                code = cell.get("code") or ""
                language = (cell.get("language") or command.get("language") or "python").lower()
                if not code.strip() or language in TEXT_LANGUAGES:
                    continue
                if self.cancel_requested:
                    raise KeyboardInterrupt
                # The command's result is its last cell's, so each cell starts afresh.
                output.seek(0)
                output.truncate()
                context.displayed = None
                self._run_cell(context, language, code, f"<command-{command_id}-cell-{number}>")
        finally:
            self.in_user_code = False

    def _run_cell(self, context, language, code, filename):
        language = (language or "python").lower()
        if language == "python":
            # Cells may come indented as a whole (the SDK's remote dbutils sends such code).
            self._run_python(context, textwrap.dedent(code), filename)
        elif language == "sql":
            result = None
            for statement in split_sql(code):
                result = context.spark.sql(statement)
            context.displayed = result
        else:
            raise NotImplementedError(f"Language {language!r} is not supported on Kiln clusters")

    @staticmethod
    def _run_python(context, code, filename):
        # Registered so tracebacks, also of functions called in later commands, show source lines.
        linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
        tree = compile(code, filename, "exec", ast.PyCF_ONLY_AST)
        last = tree.body.pop() if tree.body and isinstance(tree.body[-1], ast.Expr) else None
        exec(compile(tree, filename, "exec"), context.globals)
        if last is None:
            return
        value = eval(compile(ast.Expression(last.value), filename, "eval"), context.globals)
        # As in a Databricks notebook, a DataFrame as the last expression shows its repr
        # (`DataFrame[id: bigint]`); display(df) shows its rows.
        if value is not None:
            print(repr(value))
