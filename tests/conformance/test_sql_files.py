"""Reading files from SQL: `read_files(...)` and `` csv.`/Volumes/...` `` read files inside Unity
Catalog volumes, with READ VOLUME on the volume; no path outside a volume can be read.

Until the Files API exists, the tests put files into the volume's directory through its
storage_location, which is a local directory on the test machine.
"""

import json
from pathlib import Path
from urllib.parse import urlparse

import pytest
from databricks.sdk.service import catalog

from kilnlib import grant, insufficient, let_use_schema

Privilege = catalog.Privilege


@pytest.fixture
def volume(admin, admin_sql, schema):
    """`(full_name, directory)` of a managed volume holding people.csv, people.json and a csv/ folder."""
    full_name = f"{schema}.landing"
    admin_sql.ok(f"CREATE VOLUME {full_name}")
    directory = Path(urlparse(admin.volumes.read(full_name).storage_location).path)
    (directory / "people.csv").write_text("name,age\nada,36\ngrace,45\n")
    (directory / "people.json").write_text("\n".join(json.dumps(r) for r in [{"name": "ada", "age": 36}, {"name": "grace", "age": 45}]) + "\n")
    (directory / "parts").mkdir()
    (directory / "parts" / "a.csv").write_text("x\n1\n")
    (directory / "parts" / "b.csv").write_text("x\n2\n")
    return full_name, directory


def volume_path(full_name: str, *rest: str) -> str:
    return "/Volumes/" + "/".join(full_name.split(".") + list(rest))


def test_read_files_and_path_syntax_read_volume_files(admin_sql, volume):
    name, _ = volume
    csv_path = volume_path(name, "people.csv")
    assert admin_sql.rows(f"SELECT name, age FROM read_files('{csv_path}', format => 'csv', header => true) ORDER BY age") == [
        ["ada", "36"],
        ["grace", "45"],
    ]
    assert admin_sql.rows(f"SELECT sum(age) FROM json.`{volume_path(name, 'people.json')}`") == [["81"]]
    assert admin_sql.rows(f"SELECT sum(x) FROM read_files('{volume_path(name, 'parts')}', format => 'csv', header => true)") == [["3"]]
    # The format follows the extension when not given.
    assert admin_sql.rows(f"SELECT count(*) FROM read_files('{csv_path}')") == [["3"]], "without a header the header is a row"
    admin_sql.ok(f"CREATE TABLE {name.rsplit('.', 1)[0]}.people AS SELECT * FROM read_files('{csv_path}', header => true)")


@pytest.mark.parametrize(
    "statement",
    [
        "SELECT * FROM read_files('/etc/passwd', format => 'csv')",
        "SELECT * FROM csv.`/etc/passwd`",
        "SELECT * FROM read_files('/Volumes/main/default/../../../../etc/passwd', format => 'csv')",
        "SELECT * FROM parquet.`file:///etc/passwd`",
    ],
)
def test_no_path_outside_a_volume_is_read(admin_sql, statement):
    message = admin_sql.error(statement)
    assert message.startswith("[INVALID_PATH]") and "Unity Catalog volumes only" in message, message


def test_reading_files_needs_read_volume(admin, admin_sql, schema, volume, non_admin, sp_sql):
    name, _ = volume
    let_use_schema(admin, schema, non_admin.name)
    read = f"SELECT count(*) FROM read_files('{volume_path(name, 'people.csv')}')"
    message = sp_sql.error(read)
    assert message == insufficient("READ VOLUME", f"Volume '{name}'"), message
    grant(admin, "volume", name, non_admin.name, Privilege.READ_VOLUME)
    assert sp_sql.rows(read) == [["3"]]
