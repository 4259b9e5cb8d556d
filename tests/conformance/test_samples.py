"""The `samples` catalog: TPC-H tables created at first start, readable by every user."""

import time

from kilnlib import SqlClient, starter_warehouse_id

TABLES = {"customer", "lineitem", "nation", "orders", "part", "partsupp", "region", "supplier"}


def test_tpch_samples_are_created_and_readable_by_everyone(launch_kiln):
    with launch_kiln("samples_scale = 0.01\n[rate_limits]\nenabled = false\n") as server:
        admin = server.admin_client()
        deadline = time.monotonic() + 120
        while sample_tables(admin) != TABLES:
            assert time.monotonic() < deadline, "samples.tpch did not appear within 120 s"
            time.sleep(1)
        sql = SqlClient(admin, starter_warehouse_id(admin))
        assert sql.rows("SELECT count(*) FROM samples.tpch.nation") == [["25"]]
        assert sql.rows("SELECT count(*) FROM samples.tpch.region") == [["5"]]
        columns = {c.name: c.type_name.value for c in admin.tables.get("samples.tpch.lineitem").columns}
        assert columns["l_orderkey"] == "LONG" and columns["l_shipdate"] == "DATE" and columns["l_quantity"] == "DECIMAL"
        grants = admin.grants.get_effective(securable_type="table", full_name="samples.tpch.orders")
        everyone = {p.privilege.value for a in grants.privilege_assignments if a.principal == "account users" for p in a.privileges}
        assert {"USE_CATALOG", "USE_SCHEMA", "SELECT"} <= everyone


def sample_tables(admin) -> set:
    """The tables of samples.tpch so far (each appears once its data is loaded)."""
    if not any(c.name == "samples" for c in admin.catalogs.list()):
        return set()
    if not any(s.name == "tpch" for s in admin.schemas.list("samples")):
        return set()
    return {t.name for t in admin.tables.list("samples", "tpch")}
