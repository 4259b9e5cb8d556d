"""The token ACL at /api/2.0/permissions/authorization/tokens: read, replace (PUT), merge
(PATCH), and its effect on who may create tokens. Reference §13.

These tests rewrite a workspace-wide ACL, so they run against their own server and put the
default ACL back after each test.
"""

import pytest
from databricks.sdk import errors
from databricks.sdk.service import iam, settings

from kilnlib import ISSUED_SECRETS, create_non_admin, unique

CAN_USE = settings.TokenPermissionLevel.CAN_USE


@pytest.fixture(scope="module")
def perm_server(launch_kiln):
    with launch_kiln() as running:
        yield running


@pytest.fixture(scope="module")
def perm_admin(perm_server):
    return perm_server.admin_client()


@pytest.fixture
def sp_user(perm_server, perm_admin):
    return create_non_admin(perm_server, perm_admin)


def can_use(*, group: str = None, sp: str = None) -> settings.TokenAccessControlRequest:
    return settings.TokenAccessControlRequest(group_name=group, service_principal_name=sp, permission_level=CAN_USE)


@pytest.fixture(autouse=True)
def restore_default_acl(perm_admin):
    yield
    perm_admin.token_management.set_permissions(access_control_list=[can_use(group="users")])


def levels_by_principal(permissions) -> dict[str, set[str]]:
    """`{"group:users": {"CAN_USE"}, "sp:<app id>": {...}}` from any *Permissions response.

    The SDK parses an unknown enum value as None. TokenPermissionLevel (what the
    token_management methods parse) knows only CAN_USE, so there the admins' CAN_MANAGE is
    None and is left out."""
    levels = {}
    for entry in permissions.access_control_list or []:
        if entry.group_name:
            key = f"group:{entry.group_name}"
        elif entry.service_principal_name:
            key = f"sp:{entry.service_principal_name}"
        else:
            key = f"user:{entry.user_name}"
        granted = {p.permission_level.value for p in entry.all_permissions or [] if p.permission_level}
        levels.setdefault(key, set()).update(granted)
    return levels


def can_use_holders(permissions) -> set[str]:
    return {key for key, granted in levels_by_principal(permissions).items() if "CAN_USE" in granted}


def create_token(client):
    created = client.tokens.create(comment=unique("kiln-acl"), lifetime_seconds=600)
    ISSUED_SECRETS.add("personal access token", created.token_value)
    return created


def test_default_token_acl(perm_admin):
    permissions = perm_admin.permissions.get("authorization", "tokens")
    assert permissions.object_type == "tokens"
    levels = levels_by_principal(permissions)
    assert "CAN_MANAGE" in levels.get("group:admins", set())
    assert "CAN_USE" in levels.get("group:users", set())

    described = perm_admin.permissions.get_permission_levels("authorization", "tokens").permission_levels
    assert "CAN_USE" in {d.permission_level.value for d in described if d.permission_level}
    assert can_use_holders(perm_admin.token_management.get_permissions()) == can_use_holders(permissions)


def test_set_replaces_and_update_merges(perm_admin, sp_user):
    sp_name = sp_user.sp.application_id
    replaced = perm_admin.token_management.set_permissions(access_control_list=[can_use(sp=sp_name)])
    assert can_use_holders(replaced) == {f"sp:{sp_name}"}
    assert can_use_holders(perm_admin.permissions.get("authorization", "tokens")) == {f"sp:{sp_name}"}

    group = perm_admin.groups.create(display_name=unique("kiln-token-users"))
    merged = perm_admin.token_management.update_permissions(access_control_list=[can_use(group=group.display_name)])
    assert can_use_holders(merged) == {f"sp:{sp_name}", f"group:{group.display_name}"}


def test_can_use_gates_token_creation(perm_admin, sp_user):
    perm_admin.token_management.set_permissions(access_control_list=[can_use(sp=sp_user.sp.application_id)])
    create_token(sp_user.client)

    perm_admin.token_management.set_permissions(access_control_list=[])
    with pytest.raises(errors.PermissionDenied) as caught:
        create_token(sp_user.client)
    assert "CAN_USE" in str(caught.value)
    create_token(perm_admin)  # admins manage tokens whatever the ACL says

    # Service principals belong to `users`, so granting the group is enough.
    perm_admin.token_management.update_permissions(access_control_list=[can_use(group="users")])
    create_token(sp_user.client)


def test_non_admin_cannot_change_token_acl(sp_user):
    grant_self = [
        iam.AccessControlRequest(
            service_principal_name=sp_user.sp.application_id, permission_level=iam.PermissionLevel.CAN_USE
        )
    ]
    with pytest.raises(errors.PermissionDenied):
        sp_user.client.permissions.set("authorization", "tokens", access_control_list=grant_self)
    with pytest.raises(errors.PermissionDenied):
        sp_user.client.token_management.set_permissions(access_control_list=[can_use(group="users")])
