"""Personal access tokens and on-behalf-of tokens. Reference §1.2, §14."""

import time

import pytest
from databricks.sdk import errors

from kilnlib import ISSUED_SECRETS, new_admin_token, pat_client, unique


def create_pat(admin, lifetime_seconds: int):
    created = admin.tokens.create(comment=unique("kiln-pat"), lifetime_seconds=lifetime_seconds)
    ISSUED_SECRETS.add("personal access token", created.token_value)
    return created


def listed_token_ids(admin) -> set[str]:
    return {info.token_id for info in admin.tokens.list()}


def test_pat_lifecycle(server, admin):
    created = create_pat(admin, lifetime_seconds=3600)
    info = created.token_info
    assert created.token_value.startswith("dapi")
    assert info.token_id and info.comment.startswith("kiln-pat-")
    assert info.expiry_time > info.creation_time

    client = pat_client(server.host, created.token_value)
    assert client.current_user.me().user_name == admin.current_user.me().user_name
    assert info.token_id in listed_token_ids(admin)

    admin.tokens.delete(info.token_id)
    assert info.token_id not in listed_token_ids(admin)
    with pytest.raises(errors.Unauthenticated):
        client.current_user.me()


def test_expired_pat_is_rejected(server, admin):
    created = create_pat(admin, lifetime_seconds=1)
    client = pat_client(server.host, created.token_value)
    time.sleep(2)
    with pytest.raises(errors.Unauthenticated):
        client.current_user.me()


def test_unknown_pat_is_rejected(server):
    client = pat_client(server.host, new_admin_token())
    with pytest.raises(errors.Unauthenticated):
        client.current_user.me()


def test_on_behalf_of_token(admin, non_admin):
    sp = non_admin.sp
    me = non_admin.client.current_user.me()
    assert (me.id, me.user_name) == (sp.id, sp.application_id)

    admin_me = admin.current_user.me()
    infos = {info.token_id: info for info in admin.token_management.list()}
    assert non_admin.token_id in infos
    listed = infos[non_admin.token_id]
    assert str(listed.owner_id) == sp.id
    assert str(listed.created_by_id) == admin_me.id
    assert listed.created_by_username == admin_me.user_name

    fetched = admin.token_management.get(non_admin.token_id).token_info
    assert (fetched.token_id, fetched.owner_id) == (listed.token_id, listed.owner_id)

    admin.token_management.delete(non_admin.token_id)
    assert non_admin.token_id not in {info.token_id for info in admin.token_management.list()}
    with pytest.raises(errors.Unauthenticated):
        non_admin.client.current_user.me()
