"""`/api/2.0/workspace-conf` through the SDK's `w.workspace_conf`: the token settings admins
change take effect on the next token request. Runs on a server of its own, since the
settings are workspace-wide.
"""

import pytest
from databricks.sdk import errors

from kilnlib import create_non_admin


@pytest.fixture
def own(launch_kiln):
    with launch_kiln() as running:
        yield running


def test_token_settings_take_effect(own):
    admin = own.admin_client()
    assert admin.workspace_conf.get_status(keys="enableTokensConfig,maxTokenLifetimeDays") == {
        "enableTokensConfig": None,
        "maxTokenLifetimeDays": None,
    }
    admin.workspace_conf.set_status({"maxTokenLifetimeDays": "1"})
    with pytest.raises(errors.BadRequest) as caught:
        admin.tokens.create(lifetime_seconds=3 * 86400)
    assert "maxTokenLifetimeDays" in str(caught.value)
    capped = admin.tokens.create(comment="no lifetime asked")
    assert capped.token_info.expiry_time - capped.token_info.creation_time == 86400 * 1000

    admin.workspace_conf.set_status({"enableTokensConfig": "false"})
    with pytest.raises(errors.PermissionDenied):
        admin.tokens.create(lifetime_seconds=3600)
    admin.workspace_conf.set_status({"enableTokensConfig": "true", "maxTokenLifetimeDays": ""})
    admin.tokens.create(lifetime_seconds=30 * 86400)
    assert admin.workspace_conf.get_status(keys="maxTokenLifetimeDays") == {"maxTokenLifetimeDays": None}


def test_only_admins_change_settings_and_keys_are_checked(own):
    admin = own.admin_client()
    with pytest.raises(errors.BadRequest) as caught:
        admin.workspace_conf.set_status({"enableSomethingElse": "true"})
    assert "enableSomethingElse" in str(caught.value)
    with pytest.raises(errors.BadRequest):
        admin.workspace_conf.set_status({"maxTokenLifetimeDays": "forever"})
    with pytest.raises(errors.BadRequest):
        admin.workspace_conf.get_status(keys="enableSomethingElse")
    user = create_non_admin(own, admin)
    with pytest.raises(errors.PermissionDenied):
        user.client.workspace_conf.set_status({"enableTokensConfig": "false"})
    assert user.client.workspace_conf.get_status(keys="enableTokensConfig") == {"enableTokensConfig": None}
