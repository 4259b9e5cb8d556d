"""A small, eager stand-in for pyspark's SparkSession, DataFrame and Row.

SQL runs on the Kiln server (`POST /api/2.0/kiln/clusters/sql`) as soon as `spark.sql()`
is called, like DDL on Databricks; a DataFrame only holds the typed rows that came back.
"""

import base64
import collections
import datetime
import decimal
import json
import math
import re

from .client import KilnRestError

SQL_TIMEOUT = 600.0

ColumnInfo = collections.namedtuple("ColumnInfo", "name type_name type_text")

# type_name -> (Spark JSON type name, Spark simpleString) for the simple types.
_SIMPLE_TYPES = {
    "BYTE": ("byte", "tinyint"),
    "SHORT": ("short", "smallint"),
    "INT": ("integer", "int"),
    "LONG": ("long", "bigint"),
    "FLOAT": ("float", "float"),
    "DOUBLE": ("double", "double"),
    "BOOLEAN": ("boolean", "boolean"),
    "STRING": ("string", "string"),
    "CHAR": ("string", "string"),
    "VARCHAR": ("string", "string"),
    "DATE": ("date", "date"),
    "TIMESTAMP": ("timestamp", "timestamp"),
    "TIMESTAMP_NTZ": ("timestamp_ntz", "timestamp_ntz"),
    "BINARY": ("binary", "binary"),
    "NULL": ("void", "void"),
}

_TIMESTAMP = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?\s*(Z|[+-]\d{2}:?\d{2})?$"
)


class AnalysisException(Exception):
    """A SQL statement failed on the server; the message is the server's."""

    def __init__(self, message, error_class=None):
        super().__init__(message)
        self.message = message
        self._error_class = error_class

    def getErrorClass(self):
        return self._error_class


def _decimal_type(column):
    match = re.search(r"\(\s*(\d+)\s*,\s*(\d+)\s*\)", column.type_text or "")
    return "decimal(%s,%s)" % match.groups() if match else "decimal(10,0)"


def spark_json_type(column):
    """Spark's JSON type name of a column ("long", "decimal(10,2)", ...); complex types as string."""
    if column.type_name == "DECIMAL":
        return _decimal_type(column)
    return _SIMPLE_TYPES.get(column.type_name, ("string",))[0]


def _simple_string(column):
    """The type as pyspark's dtypes and repr spell it ("bigint", "array<string>")."""
    if column.type_name == "DECIMAL":
        return _decimal_type(column)
    if column.type_name in _SIMPLE_TYPES:
        return _SIMPLE_TYPES[column.type_name][1]
    return (column.type_text or column.type_name or "string").lower()


def _parse_timestamp(text):
    match = _TIMESTAMP.match(text.strip())
    if not match:
        raise ValueError(text)
    year, month, day, hour, minute, second, fraction, offset = match.groups()
    micros = int((fraction or "0")[:6].ljust(6, "0"))
    tz = None
    if offset == "Z":
        tz = datetime.timezone.utc
    elif offset:
        sign = -1 if offset[0] == "-" else 1
        digits = offset[1:].replace(":", "")
        tz = datetime.timezone(sign * datetime.timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))
    return datetime.datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0),
                             int(second or 0), micros, tzinfo=tz)


def _decode_binary(text):
    try:
        return base64.b64decode(text, validate=True)
    except ValueError:
        return text.encode("utf-8")


_CONVERTERS = {
    "BYTE": int, "SHORT": int, "INT": int, "LONG": int,
    "FLOAT": float, "DOUBLE": float,
    "DECIMAL": decimal.Decimal,
    "BOOLEAN": lambda text: text.strip().lower() == "true",
    "DATE": lambda text: datetime.date.fromisoformat(text.strip()[:10]),
    "TIMESTAMP": _parse_timestamp, "TIMESTAMP_NTZ": _parse_timestamp,
    "STRING": str, "CHAR": str, "VARCHAR": str,
    "BINARY": _decode_binary,
    "ARRAY": json.loads, "MAP": json.loads, "STRUCT": json.loads,
}


def convert_cell(type_name, text):
    """Turns one JSON_ARRAY cell (string or null) into the Python value pyspark would give."""
    if text is None:
        return None
    converter = _CONVERTERS.get(type_name)
    if converter is None:
        return text
    try:
        return converter(text)
    except (ValueError, ArithmeticError):
        # A value the server spelled unexpectedly is still better shown than lost.
        return text


class Row(tuple):
    """A tuple whose items can also be reached by field name, like pyspark.sql.Row."""

    def __new__(cls, *args, **kwargs):
        if args and kwargs:
            raise ValueError("Row takes either positional values or named fields, not both")
        if kwargs:
            return cls._with_fields(list(kwargs), kwargs.values())
        return tuple.__new__(cls, args)

    @classmethod
    def _with_fields(cls, fields, values):
        row = tuple.__new__(cls, values)
        row.__dict__["__fields__"] = fields  # bypasses the read-only __setattr__
        return row

    def asDict(self, recursive=False):
        fields = self.__dict__.get("__fields__")
        if fields is None:
            raise TypeError("Cannot convert a Row without field names to a dict")
        if not recursive:
            return dict(zip(fields, self))
        return {name: _plain(value) for name, value in zip(fields, self)}

    def __getitem__(self, item):
        if isinstance(item, str):
            try:
                return tuple.__getitem__(self, self.__dict__["__fields__"].index(item))
            except (KeyError, ValueError):
                raise KeyError(item) from None
        return tuple.__getitem__(self, item)

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name, value):
        raise RuntimeError("Row is read-only")

    def __reduce__(self):
        return _rebuild_row, (self.__dict__.get("__fields__"), tuple(self))

    def __repr__(self):
        fields = self.__dict__.get("__fields__")
        if fields is None:
            return "<Row(%s)>" % ", ".join(repr(value) for value in self)
        return "Row(%s)" % ", ".join(f"{name}={value!r}" for name, value in zip(fields, self))


def _rebuild_row(fields, values):
    return Row._with_fields(fields, values) if fields is not None else Row(*values)


def _plain(value):
    if isinstance(value, Row) and "__fields__" in value.__dict__:
        return value.asDict(recursive=True)
    if isinstance(value, list):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return value


def _show_text(value):
    """A value as Spark's show() spells it."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return repr(value)
    if isinstance(value, datetime.datetime):
        text = value.strftime("%Y-%m-%d %H:%M:%S")
        return text + (".%06d" % value.microsecond).rstrip("0") if value.microsecond else text
    if isinstance(value, (bytes, bytearray)):
        return "[" + " ".join("%02X" % byte for byte in value) + "]"
    if isinstance(value, list):
        return "[" + ", ".join(_show_text(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_show_text(k)} -> {_show_text(v)}" for k, v in value.items()) + "}"
    return str(value)


class DataFrame:
    """The rows of one SQL result, with the read-only part of the pyspark DataFrame API."""

    def __init__(self, columns, rows):
        self._columns = list(columns)
        self._rows = list(rows)

    @property
    def columns(self):
        return [column.name for column in self._columns]

    @property
    def dtypes(self):
        return [(column.name, _simple_string(column)) for column in self._columns]

    def collect(self):
        return list(self._rows)

    def count(self):
        return len(self._rows)

    def isEmpty(self):
        return not self._rows

    def first(self):
        return self._rows[0] if self._rows else None

    def head(self, n=None):
        return self.first() if n is None else self.take(n)

    def take(self, num):
        return self._rows[:max(num, 0)]

    def limit(self, num):
        return DataFrame(self._columns, self._rows[:max(num, 0)])

    def show(self, n=20, truncate=True):
        print(self._show_string(n, truncate))

    def _show_string(self, n, truncate):
        width_limit = 20 if truncate is True else int(truncate or 0)

        def cell(value):
            text = _show_text(value)
            if width_limit > 0 and len(text) > width_limit:
                return text[:width_limit - 3] + "..." if width_limit >= 4 else text[:width_limit]
            return text

        header = self.columns
        body = [[cell(value) for value in row] for row in self._rows[:max(n, 0)]]
        widths = [max([3, len(name)] + [len(row[i]) for row in body]) for i, name in enumerate(header)]

        def line(texts):
            # Spark right-aligns when truncating and left-aligns otherwise.
            return "|" + "|".join(t.rjust(w) if width_limit > 0 else t.ljust(w) for t, w in zip(texts, widths)) + "|"

        border = "+" + "+".join("-" * width for width in widths) + "+"
        lines = [border, line(header), border] + [line(row) for row in body] + [border]
        if len(self._rows) > n:
            lines.append("only showing top %d %s" % (n, "row" if n == 1 else "rows"))
        return "\n".join(lines) + "\n"

    def printSchema(self):
        lines = ["root"] + [f" |-- {c.name}: {spark_json_type(c)} (nullable = true)" for c in self._columns]
        print("\n".join(lines) + "\n")

    def toPandas(self):
        try:
            import pandas
        except ImportError:
            raise ImportError("DataFrame.toPandas() needs pandas, which is not installed on this cluster "
                              "(install it with `pip install pandas`)") from None
        return pandas.DataFrame.from_records([tuple(row) for row in self._rows], columns=self.columns)

    def __repr__(self):
        return "DataFrame[%s]" % ", ".join(f"{name}: {dtype}" for name, dtype in self.dtypes)


class RuntimeConf:
    """spark.conf: settings kept in memory for one context."""

    def __init__(self):
        self._values = {}

    def get(self, key, default=None):
        return self._values.get(key, default)

    def set(self, key, value):
        self._values[key] = value

    def unset(self, key):
        self._values.pop(key, None)

    def getAll(self):
        return dict(self._values)


def _quote_identifier(name):
    return "`" + str(name).replace("`", "``") + "`"


class Catalog:
    """spark.catalog: the current catalog and schema of the context."""

    def __init__(self, session):
        self._session = session

    def _ensure_known(self):
        # Every SQL answer names the current catalog and schema; ask once if none has yet.
        if self._session._current_catalog is None or self._session._current_schema is None:
            self._session.sql("SELECT 1")

    def currentCatalog(self):
        self._ensure_known()
        return self._session._current_catalog

    def currentDatabase(self):
        self._ensure_known()
        return self._session._current_schema

    def setCurrentCatalog(self, catalogName):
        self._session.sql("USE CATALOG " + _quote_identifier(catalogName))

    def setCurrentDatabase(self, dbName):
        self._session.sql("USE SCHEMA " + _quote_identifier(dbName))


class SparkSession:
    """`spark` in a notebook context; SQL goes to the Kiln server of this cluster."""

    def __init__(self, client, cluster_id):
        self._client = client
        self._cluster_id = cluster_id
        self._current_catalog = None
        self._current_schema = None
        self.conf = RuntimeConf()
        self.catalog = Catalog(self)

    def sql(self, sqlQuery, args=None):
        body = {"cluster_id": self._cluster_id, "statement": sqlQuery}
        if self._current_catalog is not None:
            body["catalog"] = self._current_catalog
        if self._current_schema is not None:
            body["schema"] = self._current_schema
        if args is not None:
            if not isinstance(args, dict):
                raise TypeError("spark.sql(args=...) takes a dict of named parameters on Kiln")
            body["parameters"] = [{"name": str(name), "value": None if value is None else str(value)}
                                  for name, value in args.items()]
        try:
            response = self._client.call("POST", "/api/2.0/kiln/clusters/sql", body=body, timeout=SQL_TIMEOUT)
        except KilnRestError as err:
            raise AnalysisException(err.message, err.error_code) from None
        self._current_catalog = response.get("catalog", self._current_catalog)
        self._current_schema = response.get("schema", self._current_schema)
        columns = [ColumnInfo(c.get("name", ""), (c.get("type_name") or "").upper(), c.get("type_text"))
                   for c in response.get("columns") or []]
        fields = [column.name for column in columns]
        rows = [Row._with_fields(fields, [convert_cell(column.type_name, cell) for column, cell in zip(columns, cells)])
                for cells in response.get("rows") or []]
        return DataFrame(columns, rows)

    def table(self, tableName):
        return self.sql("SELECT * FROM " + tableName)

    def __repr__(self):
        return "<kiln_runtime.spark.SparkSession>"
