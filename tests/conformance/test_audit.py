"""Kiln's audit log at /api/2.0/kiln/audit-events (a Kiln extension, admin only)."""

import time

import pytest
from databricks.sdk import errors

from kilnlib import ISSUED_SECRETS, bearer_of, oauth_client, pat_client, unique

AUDIT = "/api/2.0/kiln/audit-events"
EVENT_KEYS = {
    "seq", "time_ms", "request_id", "principal_id", "principal_name",
    "action", "object", "decision", "reason", "status",
}
DECISIONS = {"request", "allow", "deny"}
FLUSH_WAIT_SECONDS = 3.0
MAX_PAGES = 200


def read_audit_log(server) -> tuple[list[dict], str]:
    """All events, following next_page_token, and the raw text of every page."""
    events, texts, params = [], [], {"max_results": 1000}
    for _ in range(MAX_PAGES):
        response = server.request("GET", AUDIT, params=params)
        assert response.status_code == 200, f"HTTP {response.status_code}: {response.text[:300]}"
        texts.append(response.text)
        page = response.json()
        events += page.get("events", [])
        if not page.get("next_page_token"):
            return events, "\n".join(texts)
        params = {**params, "page_token": page["next_page_token"]}
    pytest.fail(f"audit log still paging after {MAX_PAGES} pages")


def wait_for_event(server, matches) -> dict:
    """Audit writes are batched: poll until an event matches."""
    deadline = time.monotonic() + FLUSH_WAIT_SECONDS
    while True:
        found = [event for event in read_audit_log(server)[0] if matches(event)]
        if found:
            return found[-1]
        if time.monotonic() > deadline:
            pytest.fail("no matching audit event")
        time.sleep(0.2)


def is_by(principal):
    return lambda event: str(event.get("principal_id")) == principal.id


def test_events_have_the_documented_shape(server, admin):
    me = admin.current_user.me()
    wait_for_event(server, is_by(me))
    events, _ = read_audit_log(server)
    for event in events:
        assert EVENT_KEYS <= event.keys(), f"event {event.get('seq')} lacks {EVENT_KEYS - event.keys()}"
        assert event["decision"] in DECISIONS
    seqs = [event["seq"] for event in events]
    assert seqs == sorted(set(seqs)), "seq must be unique and ascending"


def test_denied_call_is_recorded_with_a_reason(server, non_admin):
    sp = non_admin.sp
    with pytest.raises(errors.PermissionDenied):
        non_admin.client.users.create(user_name=f"{unique('kiln-audit')}@example.com")
    denial = wait_for_event(server, lambda e: is_by(sp)(e) and e.get("decision") == "deny")
    assert denial["principal_name"] == sp.application_id
    assert denial["reason"]


def test_audit_log_never_contains_secrets(server, admin, make_non_admin):
    # Issue one of each kind of credential and use it, so each passes the auth layer.
    pat = admin.tokens.create(comment=unique("kiln-audit"), lifetime_seconds=600).token_value
    ISSUED_SECRETS.add("personal access token", pat)
    pat_client(server.host, pat).current_user.me()

    make_non_admin().client.current_user.me()

    sp = admin.service_principals.create(display_name=unique("kiln-audit-m2m"))
    secret = admin.service_principal_secrets_proxy.create(service_principal_id=sp.id).secret
    ISSUED_SECRETS.add("oauth client secret", secret)
    m2m = oauth_client(server.host, sp.application_id, secret)
    m2m.current_user.me()
    ISSUED_SECRETS.add("oauth access token", bearer_of(m2m))

    wait_for_event(server, is_by(sp))
    _, dump = read_audit_log(server)
    assert ISSUED_SECRETS.found_in(dump) == [], "credential values appear in the audit log"


def test_non_admin_cannot_read_audit_log(non_admin):
    with pytest.raises(errors.PermissionDenied):
        non_admin.client.api_client.do("GET", AUDIT)
