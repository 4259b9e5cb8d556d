"""The Files API over Unity Catalog volumes (`/api/2.0/fs/files`, `/api/2.0/fs/directories`)
through the official SDK's `w.files`: bytes on disk in the volume's directory, READ VOLUME to
read and WRITE VOLUME to write, and no path that leaves its volume.
"""

import io
from pathlib import Path
from urllib.parse import urlparse

import pytest
import requests
from databricks.sdk import errors
from databricks.sdk.service import catalog

from kilnlib import grant, let_use_schema

Privilege = catalog.Privilege


@pytest.fixture
def volume(admin, admin_sql, schema) -> str:
    """`/Volumes/<catalog>/<schema>/files` of a new managed volume."""
    admin_sql.ok(f"CREATE VOLUME {schema}.files")
    return "/Volumes/" + "/".join(schema.split(".")) + "/files"


def test_upload_download_metadata_and_delete(admin, volume):
    path = f"{volume}/reports/2024 q1.csv"
    admin.files.upload(path, io.BytesIO(b"a,b\n1,2\n"), overwrite=True)
    assert admin.files.download(path).contents.read() == b"a,b\n1,2\n"
    meta = admin.files.get_metadata(path)
    assert meta.content_length == 8 and meta.last_modified
    # The bytes are a real file in the volume's directory.
    storage = Path(urlparse(admin.volumes.read(volume[len("/Volumes/"):].replace("/", ".")).storage_location).path)
    assert (storage / "reports" / "2024 q1.csv").read_bytes() == b"a,b\n1,2\n"

    with pytest.raises(errors.DatabricksError) as caught:
        admin.files.upload(path, io.BytesIO(b"other"), overwrite=False)
    assert caught.value.error_code == "ALREADY_EXISTS"
    admin.files.upload(path, io.BytesIO(b"replaced"), overwrite=True)
    assert admin.files.download(path).contents.read() == b"replaced"

    admin.files.delete(path)
    with pytest.raises(errors.NotFound):
        admin.files.get_metadata(path)
    with pytest.raises(errors.NotFound):
        admin.files.download(path)


def test_directories_list_create_and_delete(admin, volume):
    admin.files.create_directory(f"{volume}/a/b")
    admin.files.upload(f"{volume}/a/one.txt", io.BytesIO(b"1"), overwrite=True)
    admin.files.get_directory_metadata(f"{volume}/a/b")
    entries = {(e.name, e.is_directory, e.file_size) for e in admin.files.list_directory_contents(f"{volume}/a")}
    assert entries == {("b", True, None), ("one.txt", False, 1)}
    assert {e.path for e in admin.files.list_directory_contents(f"{volume}/a")} == {f"{volume}/a/b", f"{volume}/a/one.txt"}

    with pytest.raises(errors.DatabricksError):
        admin.files.delete_directory(f"{volume}/a")  # not empty
    admin.files.delete_directory(f"{volume}/a/b")
    with pytest.raises(errors.NotFound):
        admin.files.get_directory_metadata(f"{volume}/a/b")


def test_range_reads_part_of_a_file(server, admin, volume):
    path = f"{volume}/digits.txt"
    admin.files.upload(path, io.BytesIO(b"0123456789"), overwrite=True)
    url = f"{server.host}/api/2.0/fs/files{path}"
    part = requests.get(url, headers={**server.auth_headers(), "Range": "bytes=2-4"})
    assert part.status_code == 206 and part.content == b"234"
    assert part.headers["Content-Range"] == "bytes 2-4/10"
    assert requests.get(url, headers={**server.auth_headers(), "Range": "bytes=20-"}).status_code == 416


@pytest.mark.parametrize(
    "path",
    ["/etc/passwd", "/Volumes/main/default", "/Volumes/main/default/files/../../../../etc/passwd", "/Volumes/main/default/files/%2e%2e/%2e%2e/x"],
)
def test_no_path_leaves_its_volume(server, path):
    response = requests.get(f"{server.host}/api/2.0/fs/files{path}", headers=server.auth_headers())
    assert response.status_code in (400, 404), response.text
    assert "root:" not in response.text


def test_read_volume_and_write_volume_are_enforced(admin, schema, volume, non_admin):
    admin.files.upload(f"{volume}/x.txt", io.BytesIO(b"x"), overwrite=True)
    with pytest.raises(errors.NotFound):
        non_admin.client.files.download(f"{volume}/x.txt")  # the volume is invisible
    let_use_schema(admin, schema, non_admin.name)
    with pytest.raises(errors.PermissionDenied) as caught:
        non_admin.client.files.download(f"{volume}/x.txt")
    assert "READ VOLUME" in str(caught.value)
    grant(admin, "volume", schema + ".files", non_admin.name, Privilege.READ_VOLUME)
    assert non_admin.client.files.download(f"{volume}/x.txt").contents.read() == b"x"
    with pytest.raises(errors.PermissionDenied) as caught:
        non_admin.client.files.upload(f"{volume}/y.txt", io.BytesIO(b"y"), overwrite=True)
    assert "WRITE VOLUME" in str(caught.value)
    grant(admin, "volume", schema + ".files", non_admin.name, Privilege.WRITE_VOLUME)
    non_admin.client.files.upload(f"{volume}/y.txt", io.BytesIO(b"y"), overwrite=True)
    assert admin.files.download(f"{volume}/y.txt").contents.read() == b"y"


def test_large_and_streamed_uploads_fall_back_to_one_put(admin, volume):
    """Above 50 MiB, and for any stream of unknown length, the SDK opens a multipart session;
    Kiln has no presigned part URLs, so the SDK sends the file in one streamed PUT."""
    big = bytes(range(256)) * (60 * 1024 * 4)  # 60 MiB
    admin.files.upload(f"{volume}/big.bin", io.BytesIO(big), overwrite=True)
    assert admin.files.get_metadata(f"{volume}/big.bin").content_length == len(big)
    assert admin.files.download(f"{volume}/big.bin").contents.read() == big

    class Unseekable(io.RawIOBase):
        def __init__(self, data: bytes) -> None:
            self.data = io.BytesIO(data)

        def readable(self) -> bool:
            return True

        def readinto(self, buffer) -> int:
            chunk = self.data.read(len(buffer))
            buffer[: len(chunk)] = chunk
            return len(chunk)

    admin.files.upload(f"{volume}/streamed.txt", Unseekable(b"streamed"), overwrite=True)
    assert admin.files.download(f"{volume}/streamed.txt").contents.read() == b"streamed"
    admin.files.upload(f"{volume}/empty.txt", io.BytesIO(b""), overwrite=True)
    assert admin.files.get_metadata(f"{volume}/empty.txt").content_length == 0


def test_dbutils_fs_works_on_volumes(admin, volume):
    fs = admin.dbutils.fs
    fs.mkdirs(f"{volume}/dbutils")
    fs.put(f"{volume}/dbutils/hello.txt", "hello", overwrite=True)
    assert fs.head(f"{volume}/dbutils/hello.txt") == "hello"
    assert [f.name for f in fs.ls(f"{volume}/dbutils")] == ["hello.txt"]
    fs.cp(f"{volume}/dbutils/hello.txt", f"{volume}/dbutils/copy.txt")
    assert sorted(f.name for f in fs.ls(f"{volume}/dbutils")) == ["copy.txt", "hello.txt"]
    fs.rm(f"{volume}/dbutils", recurse=True)
    with pytest.raises(errors.NotFound):
        admin.files.get_directory_metadata(f"{volume}/dbutils")


def test_a_file_cannot_stand_in_for_a_directory(admin, volume):
    admin.files.upload(f"{volume}/plain", io.BytesIO(b"x"), overwrite=True)
    with pytest.raises(errors.BadRequest):
        admin.files.upload(f"{volume}/plain/child.txt", io.BytesIO(b"y"), overwrite=True)
    with pytest.raises(errors.NotFound):
        admin.files.get_directory_metadata(f"{volume}/plain")


def peak_memory_mib(server) -> float:
    """The server's peak resident memory (VmHWM) so far."""
    status = Path(f"/proc/{server.process.pid}/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:"))) / 1024


def test_large_files_stream_with_flat_memory(server, volume):
    """512 MiB up and down through the Files API must not grow the server's memory by more
    than a small, size-independent amount: bodies are streamed, never buffered whole."""
    size_mib = 512
    url = f"{server.host}/api/2.0/fs/files{volume}/stream.bin?overwrite=true"
    block = bytes(range(256)) * 4096  # 1 MiB

    before = peak_memory_mib(server)
    uploaded = requests.put(url, data=(block for _ in range(size_mib)), headers=server.auth_headers(), timeout=600)
    assert uploaded.status_code == 204, uploaded.text
    received = 0
    with requests.get(url.split("?")[0], headers=server.auth_headers(), stream=True, timeout=600) as download:
        assert download.status_code == 200
        for chunk in download.iter_content(1 << 20):
            received += len(chunk)
    after = peak_memory_mib(server)
    print(f"server peak memory: {before:.1f} MiB before, {after:.1f} MiB after {size_mib} MiB up and down")
    assert received == size_mib << 20
    assert after - before < 64, f"peak memory grew by {after - before:.1f} MiB for a {size_mib} MiB file"
