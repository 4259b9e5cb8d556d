"""The one HTTP client through which spark and dbutils call the Kiln REST API.

Each call carries the running command's bearer token, so user code acts with exactly the
caller's permissions. Error bodies (`{"error_code", "message"}`) become `KilnRestError`.
The token is only ever put in the Authorization header, never in a message.
"""

import json
import urllib.error
import urllib.parse
import urllib.request

DEFAULT_TIMEOUT = 60.0

# Kiln is the local server that started this driver; proxy variables in the cluster
# environment must not reroute (or log) these calls. Built once, at import: building it
# loads the system's CA certificates (tens of ms on Python 3.12+), and every context
# process forked from the driver inherits it ready.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class KilnRestError(Exception):
    """A Kiln REST call answered with an error status."""

    def __init__(self, status, error_code, message):
        super().__init__(f"{error_code}: {message}")
        self.status = status
        self.error_code = error_code
        self.message = message


class KilnConnectionError(ConnectionError):
    """The Kiln server could not be reached."""


def _rest_error(status, body):
    try:
        payload = json.loads(body)
    except ValueError:
        payload = None
    if isinstance(payload, dict) and ("error_code" in payload or "message" in payload):
        return KilnRestError(status, payload.get("error_code", f"HTTP_{status}"), payload.get("message", ""))
    text = body.decode("utf-8", errors="replace").strip()
    code = "NOT_FOUND" if status == 404 else f"HTTP_{status}"
    return KilnRestError(status, code, text or f"HTTP status {status}")


class KilnClient:
    def __init__(self, host, token_provider):
        self._host = host.rstrip("/")
        self._token_provider = token_provider
        self._opener = _OPENER

    def request(self, method, path, query=None, json_body=None, data=None, headers=None, timeout=DEFAULT_TIMEOUT):
        """Sends one request and returns (status, headers, body bytes); raises on error statuses."""
        url = self._host + path
        if query:
            url += "?" + urllib.parse.urlencode({k: v for k, v in query.items() if v is not None})
        all_headers = dict(headers or {})
        token = self._token_provider()
        if token:
            all_headers["Authorization"] = "Bearer " + token
        if json_body is not None:
            data = json.dumps(json_body).encode("utf-8")
            all_headers["Content-Type"] = "application/json"
        req = urllib.request.Request(url, data=data, headers=all_headers, method=method)
        try:
            with self._opener.open(req, timeout=timeout) as resp:
                return resp.status, resp.headers, resp.read()
        except urllib.error.HTTPError as err:
            raise _rest_error(err.code, err.read() or b"") from None
        except urllib.error.URLError as err:
            raise KilnConnectionError(f"cannot reach Kiln at {self._host}: {err.reason}") from None

    def call(self, method, path, query=None, body=None, timeout=DEFAULT_TIMEOUT):
        """JSON in, JSON out."""
        _, _, raw = self.request(method, path, query=query, json_body=body, timeout=timeout)
        return json.loads(raw) if raw.strip() else {}
