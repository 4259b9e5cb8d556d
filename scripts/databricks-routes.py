#!/usr/bin/env python3
"""Writes crates/server/src/routes/databricks_routes.txt: the method and path template of
every REST route the official SDK (databricks-sdk, as pinned in tests/conformance) calls.
`{}` stands for one path segment, `{+}` for two or more, `{}` after a prefix (`/fs/files{}`)
for the rest of the path.
Kiln answers 501 NOT_IMPLEMENTED for a route on this list that it has not built, and 404
ENDPOINT_NOT_FOUND for any other path. Run it with the conformance venv's Python after
upgrading the SDK:

    ~/.cache/kiln-venv/bin/python scripts/databricks-routes.py
"""

import pathlib
import re

import databricks.sdk.service as service

CALL = re.compile(r'self\._api\.do\(\s*"(GET|POST|PUT|PATCH|DELETE|HEAD)",\s*f?"([^"]+)"', re.S)


def main() -> None:
    routes = set()
    for module in sorted(pathlib.Path(service.__file__).parent.glob("*.py")):
        for method, path in CALL.findall(module.read_text()):
            # A resource name right after the version (`/api/2.0/{name}`) would make every
            # path a Databricks route: such generic routes are left out. One right after the
            # API group is a name of two or more segments (`experiments/42`): `{+}`. Every
            # other variable is one segment.
            if re.match(r"^/api/[0-9.]+/\{", path):
                continue
            path = re.sub(r"^(/api/[0-9.]+/[^/]+/)\{(name|parent)\}", r"\1{+}", path)
            routes.add((method, re.sub(r"\{[^}+]*\}", "{}", path)))
    target = pathlib.Path(__file__).resolve().parent.parent / "crates/server/src/routes/databricks_routes.txt"
    target.write_text("".join(f"{method} {path}\n" for method, path in sorted(routes)))
    print(f"{len(routes)} routes written to {target}")


if __name__ == "__main__":
    main()
