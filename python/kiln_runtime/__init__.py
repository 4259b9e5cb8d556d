"""Python runtime of a Kiln cluster.

The Kiln server starts one driver per running cluster (`python3 -m kiln_runtime.driver`);
the driver runs notebook commands with Databricks-style `spark`, `dbutils` and `display`
globals whose calls go back to the Kiln REST API with the caller's token.
"""

__version__ = "0.1.0"

from .spark import AnalysisException, DataFrame, Row  # noqa: E402,F401
