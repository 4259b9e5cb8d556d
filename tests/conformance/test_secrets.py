"""Secrets 2.0 through the official SDK (`w.secrets`, `w.dbutils.secrets`): scopes, string
and bytes secrets, scope ACLs (READ < WRITE < MANAGE) enforced for a non-admin principal,
values encrypted at rest and never in a log or a list.
"""

import base64
import secrets as random_secrets

import pytest
from databricks.sdk import errors
from databricks.sdk.service import workspace

from kilnlib import ISSUED_SECRETS, unique


@pytest.fixture
def scope(admin):
    name = unique("kiln-scope")
    admin.secrets.create_scope(scope=name)
    yield name
    try:
        admin.secrets.delete_scope(scope=name)
    except errors.NotFound:
        pass


def secret_value(label: str) -> str:
    value = "s3cr3t-" + random_secrets.token_hex(12)
    ISSUED_SECRETS.add(label, value)  # the suite fails if a log ever shows it
    return value


def test_put_get_list_and_delete(admin, scope):
    text = secret_value("string secret")
    admin.secrets.put_secret(scope=scope, key="db-password", string_value=text)
    raw = bytes(range(256))
    admin.secrets.put_secret(scope=scope, key="blob", bytes_value=base64.b64encode(raw).decode())
    assert base64.b64decode(admin.secrets.get_secret(scope=scope, key="db-password").value).decode() == text
    assert base64.b64decode(admin.secrets.get_secret(scope=scope, key="blob").value) == raw
    listed = list(admin.secrets.list_secrets(scope=scope))
    assert [s.key for s in listed] == ["blob", "db-password"] and all(s.last_updated_timestamp for s in listed)
    assert scope in [s.name for s in admin.secrets.list_scopes()]

    assert admin.dbutils.secrets.get(scope, "db-password") == text
    assert admin.dbutils.secrets.getBytes(scope, "blob") == raw
    assert "blob" in [s.key for s in admin.dbutils.secrets.list(scope)]

    admin.secrets.delete_secret(scope=scope, key="blob")
    with pytest.raises(errors.NotFound):
        admin.secrets.get_secret(scope=scope, key="blob")
    with pytest.raises(errors.ResourceAlreadyExists):
        admin.secrets.create_scope(scope=scope)
    admin.secrets.delete_scope(scope=scope)
    with pytest.raises(errors.NotFound):
        admin.secrets.list_secrets(scope=scope)


def test_values_are_encrypted_at_rest(server, admin, scope):
    text = secret_value("at-rest secret")
    admin.secrets.put_secret(scope=scope, key="k", string_value=text)
    data = server.log_dir / "data"
    stored = b"".join(path.read_bytes() for path in data.glob("kiln.db*"))
    assert stored, "the metadata database is on disk"
    assert text.encode() not in stored
    assert (data / "keys" / "secrets.key").stat().st_mode & 0o777 == 0o600


def test_bad_input_names_the_field(admin, scope):
    with pytest.raises(errors.BadRequest) as caught:
        admin.secrets.put_secret(scope=scope, key="has space", string_value="x")
    assert "key" in str(caught.value)
    with pytest.raises(errors.BadRequest):
        admin.secrets.put_secret(scope=scope, key="k", string_value="x", bytes_value="eA==")
    with pytest.raises(errors.BadRequest):
        admin.secrets.put_secret(scope=scope, key="big", string_value="x" * (128 * 1024 + 1))
    with pytest.raises(errors.NotFound):
        admin.secrets.put_secret(scope="no-such-scope-" + random_secrets.token_hex(4), key="k", string_value="x")


def test_scope_acls_are_enforced(admin, scope, non_admin):
    text = secret_value("acl secret")
    admin.secrets.put_secret(scope=scope, key="k", string_value=text)
    sp = non_admin.client
    with pytest.raises(errors.PermissionDenied) as caught:
        sp.secrets.get_secret(scope=scope, key="k")
    assert "READ" in str(caught.value)

    admin.secrets.put_acl(scope=scope, principal=non_admin.name, permission=workspace.AclPermission.READ)
    assert base64.b64decode(sp.secrets.get_secret(scope=scope, key="k").value).decode() == text
    assert admin.secrets.get_acl(scope=scope, principal=non_admin.name).permission == workspace.AclPermission.READ
    with pytest.raises(errors.PermissionDenied):
        sp.secrets.put_secret(scope=scope, key="k2", string_value="x")
    with pytest.raises(errors.PermissionDenied):
        sp.secrets.list_acls(scope=scope)

    admin.secrets.put_acl(scope=scope, principal=non_admin.name, permission=workspace.AclPermission.WRITE)
    sp.secrets.put_secret(scope=scope, key="k2", string_value="written")
    acls = {(a.principal, a.permission) for a in admin.secrets.list_acls(scope=scope)}
    assert (non_admin.name, workspace.AclPermission.WRITE) in acls
    assert (admin.current_user.me().user_name, workspace.AclPermission.MANAGE) in acls, "the creator manages the scope"

    admin.secrets.delete_acl(scope=scope, principal=non_admin.name)
    with pytest.raises(errors.PermissionDenied):
        sp.secrets.get_secret(scope=scope, key="k")
    own = unique("sp-scope")
    sp.secrets.create_scope(scope=own)  # anyone may create a scope, and manages it
    sp.secrets.put_secret(scope=own, key="mine", string_value="x")
    sp.secrets.delete_scope(scope=own)
