"""429 REQUEST_LIMIT_EXCEEDED with Retry-After, on a server with a tiny SCIM read budget.
Reference §2 (retries)."""

from typing import Optional

import pytest
import requests
from databricks.sdk import errors

from kilnlib import SCIM, FastForwardClock

RATE_LIMITED_CONFIG = """\
[rate_limits]
enabled = true
[rate_limits.classes]
scim_read = "3/min"
"""
MAX_REQUESTS = 20


@pytest.fixture(scope="module")
def limited_server(launch_kiln):
    with launch_kiln(config_toml=RATE_LIMITED_CONFIG) as running:
        yield running


def hammer_scim_reads(server) -> Optional[requests.Response]:
    """GET the Users list until the server answers 429; None if it never does."""
    for _ in range(MAX_REQUESTS):
        response = server.request("GET", SCIM + "/Users")
        if response.status_code == 429:
            return response
        assert response.status_code == 200, response.text
    return None


def test_scim_reads_are_throttled_with_retry_after(limited_server):
    throttled = hammer_scim_reads(limited_server)
    assert throttled is not None, f"no 429 within {MAX_REQUESTS} requests to a 3/min class"
    assert throttled.json()["error_code"] == "REQUEST_LIMIT_EXCEEDED"
    retry_after = throttled.headers.get("Retry-After", "")
    assert retry_after.isdigit(), f"Retry-After must be integer seconds, got {retry_after!r}"


def test_sdk_surfaces_throttling_as_too_many_requests(limited_server):
    assert hammer_scim_reads(limited_server) is not None
    # The SDK retries every 429, sleeping Retry-After each time, until retry_timeout_seconds
    # has passed; then `retried` raises TimeoutError("Timed out after ...") *from* the last
    # error. So a 429 surfaces as TimeoutError whose __cause__ is TooManyRequests (here its
    # subclass RequestLimitExceeded, chosen by error_code). The clock skips the sleeps so the
    # test does not wait out Retry-After.
    client = limited_server.admin_client(retry_timeout_seconds=1, clock=FastForwardClock())
    with pytest.raises(TimeoutError) as caught:
        list(client.users.list())
    cause = caught.value.__cause__
    assert isinstance(cause, errors.TooManyRequests), repr(cause)
    assert isinstance(cause, errors.RequestLimitExceeded)
    assert cause.retry_after_secs is not None
