"""Host metadata, OIDC discovery and the caller's identity (`Me`). Reference §1.1, §1.3, §1.6."""

import pytest
import requests

from kilnlib import METADATA_PATH, SCIM

DISCOVERY_SUFFIX = "/.well-known/oauth-authorization-server"


def public_get(url: str) -> requests.Response:
    """An unauthenticated GET, as the SDK sends it before it knows how to authenticate."""
    return requests.get(url, timeout=10)


@pytest.fixture(scope="module")
def metadata(server) -> dict:
    response = public_get(server.host + METADATA_PATH)
    assert response.status_code == 200, response.text
    return response.json()


def test_host_metadata_is_public_and_complete(metadata):
    for key in ("oidc_endpoint", "workspace_id", "account_id", "cloud"):
        assert metadata.get(key), f"{key} missing from {METADATA_PATH}"
    assert str(metadata["workspace_id"]).isdigit()
    assert metadata["cloud"] in ("AWS", "AZURE", "GCP")


def test_host_metadata_carries_org_id_header(server, metadata):
    response = public_get(server.host + METADATA_PATH)
    assert response.headers.get("X-Databricks-Org-Id") == str(metadata["workspace_id"])


def discovery_urls(server, metadata) -> dict:
    return {
        "from oidc_endpoint": metadata["oidc_endpoint"].rstrip("/") + DISCOVERY_SUFFIX,
        "fixed /oidc path": server.host + "/oidc" + DISCOVERY_SUFFIX,
    }


@pytest.mark.parametrize("which", ["from oidc_endpoint", "fixed /oidc path"])
def test_oidc_discovery_is_public(server, metadata, which):
    response = public_get(discovery_urls(server, metadata)[which])
    assert response.status_code == 200, response.text
    document = response.json()
    for key in ("authorization_endpoint", "token_endpoint", "issuer"):
        assert document.get(key), f"{key} missing from discovery document"
    # The SDK POSTs client credentials to token_endpoint, so it must point back at this server.
    assert document["token_endpoint"].startswith(server.host + "/")


def test_me_is_an_admin_user(admin):
    me = admin.current_user.me()
    assert me.id and me.user_name
    assert "admins" in {g.display for g in me.groups or []}


def test_workspace_id_matches_metadata(server, admin, metadata):
    workspace_id = str(metadata["workspace_id"])
    # The SDK answers this from host metadata without a round trip ...
    assert admin.get_workspace_id() == int(workspace_id)
    # ... and otherwise reads it from the Me response header, which must agree.
    response = admin.api_client.do("GET", SCIM + "/Me", response_headers=["X-Databricks-Org-Id"])
    assert response["X-Databricks-Org-Id"] == workspace_id
