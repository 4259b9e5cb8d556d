"""SCIM users, groups and service principals, filters and startIndex paging. Reference §3, §12."""

import uuid

import pytest
from databricks.sdk import errors
from databricks.sdk.service import iam

from kilnlib import PATCH_SCHEMAS, SCIM, group_ids, unique


def create_user(admin, prefix: str = "kiln-user") -> iam.User:
    user_name = f"{unique(prefix)}@example.com"
    return admin.users.create(
        user_name=user_name,
        display_name=f"Display {user_name}",
        emails=[iam.ComplexValue(value=user_name, primary=True)],
    )


def replace(path: str, value) -> iam.Patch:
    return iam.Patch(op=iam.PatchOp.REPLACE, path=path, value=value)


def ids_of(resources) -> list[str]:
    return [resource.id for resource in resources]


# --- users ----------------------------------------------------------------------------------


def test_user_create_get_list_update_patch_delete(admin):
    user = create_user(admin)
    assert user.id
    assert user.display_name == f"Display {user.user_name}"
    assert [e.value for e in user.emails or []] == [user.user_name]

    fetched = admin.users.get(user.id)
    assert (fetched.id, fetched.user_name, fetched.display_name) == (user.id, user.user_name, user.display_name)
    assert fetched.active is True

    assert ids_of(admin.users.list(filter=f'userName eq "{user.user_name}"')) == [user.id]

    admin.users.update(
        user.id,
        user_name=user.user_name,
        display_name="Replaced by PUT",
        emails=[iam.ComplexValue(value=user.user_name, primary=True)],
        active=True,
    )
    replaced = admin.users.get(user.id)
    assert (replaced.user_name, replaced.display_name) == (user.user_name, "Replaced by PUT")

    # The SDK drops a falsy Patch.value, so `active` goes as the string "false", as in the
    # SDK's own examples.
    admin.users.patch(
        user.id,
        operations=[replace("active", "false"), replace("displayName", "Patched")],
        schemas=PATCH_SCHEMAS,
    )
    patched = admin.users.get(user.id)
    assert patched.active is False
    assert patched.display_name == "Patched"

    admin.users.delete(user.id)
    with pytest.raises(errors.NotFound):
        admin.users.get(user.id)


def test_duplicate_user_name_conflicts(admin):
    user = create_user(admin)
    with pytest.raises(errors.ResourceConflict):
        admin.users.create(user_name=user.user_name)


def test_unquoted_filter_value_matches_nothing(admin):
    assert list(admin.users.list(filter=f"displayName eq any-Xyz{uuid.uuid4().hex}")) == []


def test_garbage_filter_is_bad_request(admin):
    with pytest.raises(errors.BadRequest):
        list(admin.users.list(filter="userName eq"))


# --- paging ---------------------------------------------------------------------------------


def raw_user_page(admin, start_index: int, count: int, **query) -> dict:
    return admin.api_client.do(
        "GET", SCIM + "/Users", query={"startIndex": start_index, "count": count, **query}
    )


def walk_raw_pages(admin, count: int, **query) -> list[str]:
    """Every id, paging by startIndex as the SDK does, but failing on a repeated id where the
    SDK would silently skip it (and loop forever if the server ignores startIndex)."""
    seen, start_index = [], 1
    while True:
        resources = raw_user_page(admin, start_index, count, **query).get("Resources") or []
        if not resources:
            return seen
        page_ids = [resource["id"] for resource in resources]
        repeated = set(page_ids) & set(seen)
        assert not repeated, f"startIndex={start_index} returned ids listed before: {sorted(repeated)}"
        seen += page_ids
        start_index += len(page_ids)


def test_scim_paging_by_start_index(admin):
    prefix = unique("kiln-page")
    created = {create_user(admin, prefix).id for _ in range(5)}

    first = raw_user_page(admin, start_index=1, count=1)
    assert len(first["Resources"]) == 1
    total = first["totalResults"]
    assert total >= len(created)

    # Raw first: it fails fast where the SDK loop below would never end.
    assert len(walk_raw_pages(admin, count=2)) == total

    listed = ids_of(admin.users.list(count=2))
    assert len(listed) == len(set(listed)) == total
    assert created <= set(listed)

    past_the_end = raw_user_page(admin, start_index=total + 1, count=1)
    assert not past_the_end.get("Resources")


def test_filtered_listing_pages(admin):
    prefix = unique("kiln-fpage")
    created = {create_user(admin, prefix).id for _ in range(5)}
    name_filter = f'userName co "{prefix}"'

    first = raw_user_page(admin, start_index=1, count=2, filter=name_filter)
    assert first["totalResults"] == len(created)
    assert set(walk_raw_pages(admin, count=2, filter=name_filter)) == created
    assert set(ids_of(admin.users.list(filter=name_filter, count=2))) == created


# --- groups ---------------------------------------------------------------------------------


def test_group_membership_add_and_remove(admin):
    group = admin.groups.create(display_name=unique("kiln-group"))
    user = create_user(admin)
    assert group.id

    admin.groups.patch(
        group.id,
        operations=[iam.Patch(op=iam.PatchOp.ADD, path="members", value=[{"value": user.id}])],
        schemas=PATCH_SCHEMAS,
    )
    assert group.id in group_ids(admin.users.get(user.id))
    assert user.id in {m.value for m in admin.groups.get(group.id).members or []}

    admin.groups.patch(
        group.id,
        operations=[iam.Patch(op=iam.PatchOp.REMOVE, path=f'members[value eq "{user.id}"]')],
        schemas=PATCH_SCHEMAS,
    )
    assert group.id not in group_ids(admin.users.get(user.id))
    assert user.id not in {m.value for m in admin.groups.get(group.id).members or []}

    admin.groups.delete(group.id)
    with pytest.raises(errors.NotFound):
        admin.groups.get(group.id)


# --- service principals ---------------------------------------------------------------------


def test_service_principal_lifecycle(admin):
    display_name = unique("kiln-sp")
    sp = admin.service_principals.create(display_name=display_name)
    assert sp.id and sp.display_name == display_name
    assert str(uuid.UUID(sp.application_id)) == sp.application_id

    fetched = admin.service_principals.get(sp.id)
    assert (fetched.application_id, fetched.display_name) == (sp.application_id, display_name)
    assert sp.id in ids_of(admin.service_principals.list())
    by_app_id = admin.service_principals.list(filter=f'applicationId eq "{sp.application_id}"')
    assert ids_of(by_app_id) == [sp.id]

    admin.service_principals.update(
        sp.id, application_id=sp.application_id, display_name=display_name + "-renamed", active=True
    )
    renamed = admin.service_principals.get(sp.id)
    assert (renamed.display_name, renamed.application_id) == (display_name + "-renamed", sp.application_id)

    admin.service_principals.patch(sp.id, operations=[replace("active", "false")], schemas=PATCH_SCHEMAS)
    assert admin.service_principals.get(sp.id).active is False

    admin.service_principals.delete(sp.id)
    with pytest.raises(errors.NotFound):
        admin.service_principals.get(sp.id)
