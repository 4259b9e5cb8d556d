"""Workspace 2.0 through the official SDK (`w.workspace`): notebooks in SOURCE and Jupyter
form, plain files, directories, homes and `/Shared`, and folder ACLs inherited through the
Permissions API.
"""

import base64
import io
import json

import pytest
from databricks.sdk import errors
from databricks.sdk.service import iam, workspace
from databricks.sdk.service.workspace import ExportFormat, ImportFormat, Language, ObjectType

from kilnlib import server_message, unique


@pytest.fixture
def folder(admin):
    path = f"/Shared/{unique('kiln-ws')}"
    admin.workspace.mkdirs(path)
    yield path
    try:
        admin.workspace.delete(path, recursive=True)
    except errors.NotFound:
        pass


def test_upload_source_notebook_and_export_it(admin, folder):
    admin.workspace.upload(f"{folder}/nb.py", b"print(1)", language=Language.PYTHON)
    status = admin.workspace.get_status(f"{folder}/nb.py")
    assert status.object_type == ObjectType.NOTEBOOK and status.language == Language.PYTHON
    assert status.object_id and status.resource_id == str(status.object_id)
    assert admin.workspace.download(f"{folder}/nb.py").read() == b"# Databricks notebook source\nprint(1)"
    exported = admin.workspace.export(f"{folder}/nb.py", format=ExportFormat.SOURCE)
    assert base64.b64decode(exported.content) == b"# Databricks notebook source\nprint(1)" and exported.file_type == "py"

    # The language's comment marker, and JSON import with base64 content.
    admin.workspace.import_(f"{folder}/q", content=base64.b64encode(b"SELECT 1").decode(), format=ImportFormat.SOURCE, language=Language.SQL)
    assert admin.workspace.download(f"{folder}/q").read() == b"-- Databricks notebook source\nSELECT 1"
    admin.workspace.upload(f"{folder}/s.scala", b"println(1)")
    assert admin.workspace.download(f"{folder}/s.scala").read().startswith(b"// Databricks notebook source\n")


def test_auto_import_makes_files_and_notebooks(admin, folder):
    raw = b"print('not a notebook')\n\x00\xff"
    admin.workspace.upload(f"{folder}/util.py", raw, format=ImportFormat.AUTO)
    status = admin.workspace.get_status(f"{folder}/util.py")
    assert status.object_type == ObjectType.FILE and status.size == len(raw)
    assert admin.workspace.download(f"{folder}/util.py").read() == raw

    admin.workspace.upload(f"{folder}/etl.py", b"# Databricks notebook source\nx = 1", format=ImportFormat.AUTO)
    assert admin.workspace.get_status(f"{folder}/etl").object_type == ObjectType.NOTEBOOK, "AUTO drops a notebook's extension"
    with pytest.raises(errors.NotFound):
        admin.workspace.get_status(f"{folder}/etl.py")


def test_jupyter_round_trip(admin, folder):
    document = {
        "cells": [
            {"cell_type": "markdown", "metadata": {}, "source": ["# Title\n", "text"]},
            {"cell_type": "code", "metadata": {}, "source": "x = 40 + 2\nprint(x)", "outputs": [], "execution_count": None},
            {"cell_type": "code", "metadata": {}, "source": ["%sql\n", "SELECT 1"], "outputs": [], "execution_count": None},
        ],
        "metadata": {"language_info": {"name": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    admin.workspace.upload(f"{folder}/analysis.ipynb", json.dumps(document).encode(), format=ImportFormat.JUPYTER)
    status = admin.workspace.get_status(f"{folder}/analysis")
    assert status.object_type == ObjectType.NOTEBOOK and status.language == Language.PYTHON
    source = admin.workspace.download(f"{folder}/analysis").read().decode()
    assert source.startswith("# Databricks notebook source\n# MAGIC %md\n# MAGIC # Title\n")
    assert "# COMMAND ----------" in source and "x = 40 + 2\nprint(x)" in source and "# MAGIC %sql\n# MAGIC SELECT 1" in source
    back = json.loads(admin.workspace.download(f"{folder}/analysis", format=ExportFormat.JUPYTER).read())
    assert [c["cell_type"] for c in back["cells"]] == ["markdown", "code", "code"]
    assert "".join(back["cells"][1]["source"]) == "x = 40 + 2\nprint(x)"
    assert "".join(back["cells"][2]["source"]) == "%sql\nSELECT 1"

    with pytest.raises(errors.DatabricksError) as bad:  # upload re-raises 400s with a hint
        admin.workspace.upload(f"{folder}/broken.ipynb", b"{not json", format=ImportFormat.JUPYTER)
    assert bad.value.error_code == "INVALID_PARAMETER_VALUE" and "not a Jupyter notebook" in str(bad.value)


def test_list_mkdirs_overwrite_and_delete(admin, folder):
    admin.workspace.mkdirs(f"{folder}/a/b/c")
    admin.workspace.mkdirs(f"{folder}/a/b/c")  # idempotent
    admin.workspace.upload(f"{folder}/a/nb", b"1", language=Language.PYTHON)
    listed = {o.path: o.object_type for o in admin.workspace.list(f"{folder}/a")}
    assert listed == {f"{folder}/a/b": ObjectType.DIRECTORY, f"{folder}/a/nb": ObjectType.NOTEBOOK}
    recursive = {o.path for o in admin.workspace.list(folder, recursive=True)}
    assert recursive == {f"{folder}/a/nb"}, "the SDK's recursive list yields the leaves"
    assert list(admin.workspace.list(f"{folder}/a/b/c")) == []

    with pytest.raises(errors.ResourceAlreadyExists):
        admin.workspace.upload(f"{folder}/a/nb", b"2", language=Language.PYTHON)
    admin.workspace.upload(f"{folder}/a/nb", b"2", language=Language.PYTHON, overwrite=True)
    assert admin.workspace.download(f"{folder}/a/nb").read().endswith(b"\n2")

    with pytest.raises(errors.NotFound) as no_parent:
        admin.workspace.upload(f"{folder}/missing/nb", b"1", language=Language.PYTHON)
    assert "parent folder" in server_message(no_parent.value)
    with pytest.raises(errors.DatabricksError) as not_empty:
        admin.workspace.delete(f"{folder}/a")
    assert not_empty.value.error_code == "DIRECTORY_NOT_EMPTY"
    admin.workspace.delete(f"{folder}/a", recursive=True)
    with pytest.raises(errors.NotFound):
        admin.workspace.get_status(f"{folder}/a/b/c")
    with pytest.raises(errors.NotFound):
        admin.workspace.delete(f"{folder}/a")


def test_bad_input_is_a_clear_400(admin, folder):
    for path, fragment in [("relative/path", "absolute"), (f"{folder}/../x", "'..'")]:
        with pytest.raises(errors.InvalidParameterValue) as bad:
            admin.workspace.get_status(path)
        assert fragment in server_message(bad.value)
    with pytest.raises(errors.InvalidParameterValue) as no_language:
        admin.workspace.import_(f"{folder}/x", content=base64.b64encode(b"1").decode(), format=ImportFormat.SOURCE)
    assert "language is required" in server_message(no_language.value)
    with pytest.raises(errors.InvalidParameterValue) as dbc:
        admin.workspace.import_(f"{folder}/x", content="", format=ImportFormat.DBC)
    assert "DBC" in server_message(dbc.value)
    with pytest.raises(errors.DatabricksError):
        admin.workspace.delete("/Shared")


def test_homes_shared_and_folder_acls(admin, folder, non_admin):
    sp = non_admin.client
    home = f"/Users/{non_admin.name}"
    # Everyone lists the top; a principal sees its own home, not others'.
    assert {"/Users", "/Shared"} <= {o.path for o in sp.workspace.list("/")}
    assert [o.path for o in sp.workspace.list("/Users")] == [home]
    sp.workspace.mkdirs(f"{home}/project")
    sp.workspace.upload(f"{home}/project/nb", b"print('mine')", language=Language.PYTHON)
    assert home in {o.path for o in admin.workspace.list("/Users")}

    # /Shared is open to every user; the admin's folder inside it is too, by inheritance.
    sp.workspace.upload(f"{folder}/from-sp", b"1", language=Language.PYTHON)
    private = f"/Users/{admin.current_user.me().user_name}/{unique('private')}"
    admin.workspace.mkdirs(private)
    admin.workspace.upload(f"{private}/secret-nb", b"1", language=Language.PYTHON)
    with pytest.raises(errors.PermissionDenied) as denied:
        sp.workspace.download(f"{private}/secret-nb")
    assert "CAN_READ" in server_message(denied.value) and f"{private}/secret-nb" in server_message(denied.value)
    with pytest.raises(errors.PermissionDenied):
        sp.workspace.upload(f"{private}/intruder", b"1", language=Language.PYTHON)

    # CAN_READ on the folder is inherited by what is in it, and is not enough to write.
    folder_id = admin.workspace.get_status(private).object_id
    admin.permissions.update(
        "directories", str(folder_id), access_control_list=[iam.AccessControlRequest(service_principal_name=non_admin.name, permission_level=iam.PermissionLevel.CAN_READ)]
    )
    assert sp.workspace.download(f"{private}/secret-nb").read().endswith(b"\n1")
    notebook_id = admin.workspace.get_status(f"{private}/secret-nb").object_id
    acl = admin.permissions.get("notebooks", str(notebook_id)).access_control_list
    inherited = [a for a in acl if a.service_principal_name == non_admin.name]
    assert inherited and inherited[0].all_permissions[0].inherited and inherited[0].all_permissions[0].permission_level == iam.PermissionLevel.CAN_READ
    with pytest.raises(errors.PermissionDenied) as edit_denied:
        sp.workspace.upload(f"{private}/secret-nb", b"2", language=Language.PYTHON, overwrite=True)
    assert "CAN_EDIT" in server_message(edit_denied.value)
    with pytest.raises(errors.PermissionDenied):
        sp.workspace.delete(f"{private}/secret-nb")
    admin.workspace.delete(private, recursive=True)
