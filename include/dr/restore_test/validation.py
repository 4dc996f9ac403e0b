"""Validating a restored database with Great Expectations, from the backup-time manifest.

Called directly (GX Core 1.x): the GX Airflow provider pins a structlog that
Airflow 3.3 cannot install. Each table is read into a dataframe through the
restore connection, so no credentials are handed to GX; this suits databases of
the demo's size, and a SQL datasource is the step beyond. The expectations come
from the manifest: the table's columns in order, its row count (within the
policy's tolerance for that table), and a unique, non-null primary key. The
content checksum, GX having no such expectation, is compared beside it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from include.dr.rds.checksum import checksum_sql, checksum_text, quote


def expectations(entry: Mapping[str, Any], tolerance: float, slack: int = 0) -> list[Any]:
    """The GX expectations one manifest table entry asks for; the row count may differ by
    the policy's fraction, and by ``slack`` rows more (writes between two moments)."""
    import great_expectations as gx

    gxe: Any = gx.expectations  # its classes are exported lazily
    rows = int(entry["row_count"])
    columns = [column["name"] for column in entry["columns"]]
    found: list[Any] = [
        gxe.ExpectTableColumnsToMatchOrderedList(column_list=columns),
        gxe.ExpectTableRowCountToBeBetween(
            min_value=max(0, math.floor(rows * (1 - tolerance)) - slack),
            max_value=math.ceil(rows * (1 + tolerance)) + slack,
        ),
    ]
    key = list(entry.get("primary_key") or [])
    found += [gxe.ExpectColumnValuesToNotBeNull(column=column) for column in key]
    if len(key) == 1:
        found.append(gxe.ExpectColumnValuesToBeUnique(column=key[0]))
    elif key:
        found.append(gxe.ExpectCompoundColumnsToBeUnique(column_list=key))
    return found


def validate_database(
    cursor: Any,
    database: str,
    manifest: Mapping[str, Any],
    tolerance: Mapping[str, float],
    checksum_tables: tuple[str, ...] | None,
    row_slack: int = 0,
) -> dict[str, Any]:
    """Every table's GX results and checksum verdict; ``success`` only if all hold."""
    import great_expectations as gx
    import pandas as pd
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)  # no bars in task logs
    source = context.data_sources.add_pandas("restored")
    cursor.execute(
        "SELECT TABLE_NAME FROM information_schema.TABLES "
        "WHERE TABLE_SCHEMA = %s AND TABLE_TYPE = 'BASE TABLE'",
        (database,),
    )
    restored = sorted(row[0] for row in cursor.fetchall())
    expected = sorted(manifest["tables"])
    tables: dict[str, Any] = {}
    for table in expected:
        if table not in restored:
            tables[table] = {"success": False, "failed": ["table missing after the restore"]}
            continue
        entry = manifest["tables"][table]
        cursor.execute(f"SELECT * FROM {quote(database)}.{quote(table)}")
        frame = pd.DataFrame(list(cursor.fetchall()), columns=[d[0] for d in cursor.description])
        suite = gx.ExpectationSuite(name=f"restore_test.{table}")
        for expectation in expectations(entry, tolerance.get(table, 0.0), row_slack):
            suite.add_expectation(expectation)
        batch = (
            source.add_dataframe_asset(name=table)
            .add_batch_definition_whole_dataframe("all")
            .get_batch(batch_parameters={"dataframe": frame})
        )
        result = batch.validate(suite)
        failed = [_describe(r.expectation_config) for r in result.results if not r.success]
        checked = checksum_tables is None or table in checksum_tables
        checksum_ok = True
        if checked:
            cursor.execute(checksum_sql(database, table, [c["name"] for c in entry["columns"]]))
            _, xor, total = cursor.fetchone()
            checksum_ok = checksum_text(xor, total) == entry["checksum"]
            if not checksum_ok:
                failed.append("content checksum differs from the manifest")
        tables[table] = {
            "success": bool(result.success) and checksum_ok,
            "rows": len(frame),
            "expected_rows": entry["row_count"],
            "expectations": len(result.results),
            "checksum_checked": checked,
            "failed": failed,
        }
    extra = sorted(set(restored) - set(expected))
    success = all(t["success"] for t in tables.values()) and not extra
    failing = sorted(name for name, t in tables.items() if not t["success"])
    return {
        "success": success,
        "tables": tables,
        "unexpected_tables": extra,
        "failing_tables": failing,
        "engine": f"great_expectations {gx.__version__}",
    }


def _describe(config: Any) -> str:
    """e.g. ``expect_column_values_to_be_unique customer_id``."""
    if config is None:
        return "an expectation failed"
    return f"{config.type} {config.kwargs.get('column', '')}".strip()
