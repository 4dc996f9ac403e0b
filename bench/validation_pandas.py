"""The restore test's validation as it was before it moved to a SQL datasource: each table
read whole into a pandas dataframe (``SELECT *``), then GX run on the dataframe.

Kept for ``bench/validation.py`` only, as the baseline the SQL path is measured against;
nothing in the product imports it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from include.dr.rds.checksum import checksum_sql, checksum_text, quote
from include.dr.restore_test.validation import expectations


def validate_database_in_pandas(
    cursor: Any,
    database: str,
    manifest: Mapping[str, Any],
    tolerance: Mapping[str, float],
    checksum_tables: tuple[str, ...] | None,
) -> dict[str, Any]:
    """The old ``validate_database``: the same expectations and checksum, on dataframes."""
    import great_expectations as gx
    import pandas as pd
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    source = context.data_sources.add_pandas("restored")
    tables: dict[str, Any] = {}
    for table, entry in sorted(manifest["tables"].items()):
        cursor.execute(f"SELECT * FROM {quote(database)}.{quote(table)}")
        frame = pd.DataFrame(list(cursor.fetchall()), columns=[d[0] for d in cursor.description])
        suite = gx.ExpectationSuite(name=f"restore_test.{table}")
        for expectation in expectations(entry, tolerance.get(table, 0.0)):
            suite.add_expectation(expectation)
        batch = (
            source.add_dataframe_asset(name=table)
            .add_batch_definition_whole_dataframe("all")
            .get_batch(batch_parameters={"dataframe": frame})
        )
        result = batch.validate(suite)
        checksum_ok = True
        if checksum_tables is None or table in checksum_tables:
            cursor.execute(checksum_sql(database, table, [c["name"] for c in entry["columns"]]))
            _, xor, total = cursor.fetchone()
            checksum_ok = checksum_text(xor, total) == entry["checksum"]
        tables[table] = {"success": bool(result.success) and checksum_ok, "rows": len(frame)}
    return {"success": all(t["success"] for t in tables.values()), "tables": tables}
