"""DBFS 2.0 through the official SDK (`w.dbfs`, `w.dbutils.fs` on dbfs:/ paths): a root with
the usual folders, inline puts, streamed uploads through handles, reads by offset, moves and
deletes, and no path that leaves the root.
"""

import base64
import io

import pytest
import requests
from databricks.sdk import errors

from kilnlib import unique


@pytest.fixture
def folder(admin) -> str:
    path = f"/FileStore/{unique('kiln')}"
    admin.dbfs.mkdirs(path)
    yield path
    admin.dbfs.delete(path, recursive=True)


def test_root_has_the_usual_folders(admin):
    names = {f.path for f in admin.dbfs.list("/")}
    assert {"/FileStore", "/tmp"} <= names


def test_put_read_list_move_and_delete(server, admin, folder):
    admin.dbfs.put(f"{folder}/a.txt", contents=base64.b64encode(b"hello dbfs").decode(), overwrite=True)
    status = admin.dbfs.get_status(f"dbfs:{folder}/a.txt")
    assert (status.path, status.is_dir, status.file_size) == (f"{folder}/a.txt", False, 10)
    part = admin.dbfs.read(f"{folder}/a.txt", offset=6, length=4)
    assert (part.bytes_read, base64.b64decode(part.data)) == (4, b"dbfs")
    with pytest.raises(errors.ResourceAlreadyExists):
        admin.dbfs.put(f"{folder}/a.txt", contents="", overwrite=False)
    admin.dbfs.move(f"{folder}/a.txt", f"{folder}/sub/b.txt")
    assert [f.path for f in admin.dbfs.list(f"{folder}/sub")] == [f"{folder}/sub/b.txt"]
    with pytest.raises(errors.NotFound):
        admin.dbfs.get_status(f"{folder}/a.txt")
    # The SDK refuses a non-recursive delete of a directory itself; the API answers IO_ERROR.
    refused = requests.post(f"{server.host}/api/2.0/dbfs/delete", json={"path": f"{folder}/sub"}, headers=server.auth_headers())
    assert refused.status_code == 400 and refused.json()["error_code"] == "IO_ERROR", refused.text
    admin.dbfs.delete(f"{folder}/sub", recursive=True)
    assert list(admin.dbfs.list(folder)) == []


def test_large_files_stream_through_handles(admin, folder):
    data = bytes(range(256)) * (12 * 1024)  # 3 MiB: several blocks
    admin.dbfs.upload(f"{folder}/big.bin", io.BytesIO(data), overwrite=True)
    assert admin.dbfs.get_status(f"{folder}/big.bin").file_size == len(data)
    assert admin.dbfs.download(f"{folder}/big.bin").read() == data


def test_dbutils_fs_on_dbfs(admin, folder):
    fs = admin.dbutils.fs
    fs.put(f"dbfs:{folder}/hello.txt", "hello", overwrite=True)
    assert fs.head(f"dbfs:{folder}/hello.txt") == "hello"
    fs.cp(f"dbfs:{folder}/hello.txt", f"dbfs:{folder}/copy.txt")
    assert sorted(f.name for f in fs.ls(f"dbfs:{folder}")) == ["copy.txt", "hello.txt"]
    fs.rm(f"dbfs:{folder}/copy.txt")
    assert [f.name for f in fs.ls(f"dbfs:{folder}")] == ["hello.txt"]


@pytest.mark.parametrize("path", ["/../../etc/passwd", "/FileStore/../../etc/passwd", "/FileStore/%2e%2e/%2E%2E/etc/passwd", "etc/passwd"])
def test_no_path_leaves_the_root(server, path):
    response = requests.get(f"{server.host}/api/2.0/dbfs/read", params={"path": path}, headers=server.auth_headers())
    assert response.status_code == 400 and response.json()["error_code"] == "INVALID_PARAMETER_VALUE", response.text
