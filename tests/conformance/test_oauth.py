"""OAuth M2M with service-principal secrets. Reference §1.3, §14.

The SDK fetches its OAuth token lazily, on the first API call, and turns a failed token
request into ValueError("<error>: <error_description>"); that is the failure asserted here.
A body without `error` (a Databricks-style 404/501, say) shows up as "unknown: unknown",
so the tests also require the RFC 6749 code `invalid_client`.
"""

import json

import pytest
import requests

from kilnlib import ISSUED_SECRETS, SCIM, bearer_of, oauth_client, unique

UNKNOWN_CLIENT_ID = "00000000-0000-4000-8000-000000000000"


@pytest.fixture
def sp(admin):
    return admin.service_principals.create(display_name=unique("kiln-m2m"))


def create_secret(admin, sp):
    created = admin.service_principal_secrets_proxy.create(service_principal_id=sp.id)
    ISSUED_SECRETS.add("oauth client secret", created.secret)
    return created


def assert_m2m_fails(server, client_id: str, client_secret: str):
    with pytest.raises(ValueError) as caught:
        oauth_client(server.host, client_id, client_secret).current_user.me()
    assert "invalid_client" in str(caught.value)


def secret_ids(admin, sp) -> set[str]:
    return {info.id for info in admin.service_principal_secrets_proxy.list(sp.id)}


def test_m2m_secret_lifecycle(server, admin, sp):
    created = create_secret(admin, sp)
    assert created.id and created.secret

    client = oauth_client(server.host, sp.application_id, created.secret)
    me = client.current_user.me()
    assert (me.id, me.user_name) == (sp.id, sp.application_id)
    ISSUED_SECRETS.add("oauth access token", bearer_of(client))

    assert created.id in secret_ids(admin, sp)
    listing = admin.api_client.do("GET", f"/api/2.0/accounts/servicePrincipals/{sp.id}/credentials/secrets")
    assert ISSUED_SECRETS.found_in(json.dumps(listing)) == [], "a secret listing shows a secret value"

    admin.service_principal_secrets_proxy.delete(sp.id, created.id)
    assert created.id not in secret_ids(admin, sp)
    assert_m2m_fails(server, sp.application_id, created.secret)


def test_m2m_wrong_secret_fails(server, admin, sp):
    created = create_secret(admin, sp)
    assert_m2m_fails(server, sp.application_id, created.secret + "x")


def test_m2m_unknown_client_fails(server):
    assert_m2m_fails(server, UNKNOWN_CLIENT_ID, "not-a-secret")


def test_token_endpoint_errors_use_the_oauth_shape(server):
    discovery = requests.get(server.host + "/oidc/.well-known/oauth-authorization-server", timeout=10).json()
    response = requests.post(
        discovery["token_endpoint"],
        data={"grant_type": "client_credentials", "scope": "all-apis"},
        auth=(UNKNOWN_CLIENT_ID, "not-a-secret"),
        timeout=10,
    )
    assert response.status_code in (400, 401), response.text
    assert response.headers.get("Content-Type", "").startswith("application/json")
    assert response.json().get("error") == "invalid_client"


def test_m2m_token_is_scoped_to_its_principal(server, admin, sp):
    """The OAuth token acts as the service principal, not as whoever created the secret."""
    created = create_secret(admin, sp)
    client = oauth_client(server.host, sp.application_id, created.secret)
    assert "admins" not in {g.display for g in client.current_user.me().groups or []}
    assert client.api_client.do("GET", SCIM + "/Me")["userName"] == sp.application_id
