"""The error contract: status codes, error_code values and the SDK exception classes they
select. Reference §2."""

import pytest
import requests
from databricks.sdk import errors

from kilnlib import SCIM, new_admin_token, pat_client, unique

TOKEN_CREATE = "/api/2.0/token/create"


def error_body(response: requests.Response) -> dict:
    assert response.headers.get("Content-Type", "").startswith("application/json"), response.text
    body = response.json()
    assert isinstance(body.get("error_code"), str) and body["error_code"], body
    return body


# --- 401 --------------------------------------------------------------------------------------


def test_bad_token_is_unauthenticated(server):
    with pytest.raises(errors.Unauthenticated):
        pat_client(server.host, new_admin_token()).tokens.list()


def test_missing_authorization_is_401(server):
    response = requests.get(server.host + SCIM + "/Me", timeout=10)
    assert response.status_code == 401
    error_body(response)


# --- 403 --------------------------------------------------------------------------------------

ADMIN_ONLY_CALLS = {
    "users.create": lambda w: w.users.create(user_name=f"{unique('kiln-denied')}@example.com"),
    "token_management.list": lambda w: w.token_management.list(),
    "service_principals.create": lambda w: w.service_principals.create(display_name=unique("kiln-denied")),
}


@pytest.mark.parametrize("call", ADMIN_ONLY_CALLS.values(), ids=ADMIN_ONLY_CALLS.keys())
def test_non_admin_is_permission_denied(non_admin, call):
    assert non_admin.client.current_user.me().id == non_admin.sp.id  # authenticated, just not allowed
    with pytest.raises(errors.PermissionDenied):
        call(non_admin.client)


# --- 404 --------------------------------------------------------------------------------------


def test_missing_user_is_not_found(admin):
    with pytest.raises(errors.NotFound):
        admin.users.get("987654321987654321")


def test_unknown_route_is_endpoint_not_found(admin):
    with pytest.raises(errors.NotFound) as caught:
        admin.api_client.do("GET", "/api/2.0/definitely-not-a-route")
    assert caught.value.error_code == "ENDPOINT_NOT_FOUND"


# --- 501 --------------------------------------------------------------------------------------


def test_known_but_unbuilt_route_is_not_implemented(admin):
    with pytest.raises(errors.NotImplemented) as caught:
        next(iter(admin.serving_endpoints.list()), None)
    assert "/api/2.0/serving-endpoints" in str(caught.value)


# --- 400 --------------------------------------------------------------------------------------


def test_wrongly_typed_field_is_invalid_parameter_value(server):
    response = server.request("POST", TOKEN_CREATE, json={"lifetime_seconds": "abc"})
    assert response.status_code == 400
    body = error_body(response)
    assert body["error_code"] == "INVALID_PARAMETER_VALUE"
    assert "lifetime_seconds" in body.get("message", "")


def test_invalid_json_is_bad_request(server):
    response = server.request(
        "POST", TOKEN_CREATE, data="{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400
    error_body(response)
