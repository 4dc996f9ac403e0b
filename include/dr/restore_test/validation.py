"""Validating a restored database with Great Expectations, from the backup-time manifest.

Called directly (GX Core 1.x): the GX Airflow provider pins a structlog that
Airflow 3.3 cannot install. The expectations run in the database, through a GX
SQL datasource with one table asset per table, so only aggregates cross the
network and the worker's memory stays flat however large the tables are. They
come from the manifest: the table's columns in order, its row count (within the
policy's tolerance for that table), and a unique, non-null primary key. The
content checksum, GX having no such expectation, is computed by the server
beside it (:mod:`include.dr.rds.checksum`).

GX gets an engine URL without the password: PyMySQL connections are made by our
own ``creator``, with the password and verified TLS, so neither is in GX's
configuration, which GX may print.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from include.dr.errors import BackupError, Permanent, Transient
from include.dr.rds.checksum import checksum_sql, checksum_text
from include.dr.rds.transport import tls_options

CONNECT_TIMEOUT = 30
ROW_COUNT = "expect_table_row_count_to_be_between"
REFUSED_CODES = (1044, 1045)  # access denied to the database, or to the user
# GX's uniqueness check counts each key over a window, which the server builds in a
# temporary table; past the default 16 MB that table goes to disk and the check slows
# more than the table grows. The restored copy is a scratch server (or the temporary
# instance), so its validation sessions may hold up to 256 MB of it in memory: enough
# for the benchmark's 2,000,000 keys, which spill at the default.
SESSION_SETTINGS = "SET SESSION tmp_table_size = 268435456, max_heap_table_size = 268435456"
# Verdicts and observed values only: listing offending values would run each map
# expectation's query a second time (on MariaDB, a LIMIT 0 query is answered unrun).
RESULT_FORMAT = {"result_format": "BASIC", "partial_unexpected_count": 0}


class ValidationRefused(Permanent):
    """The server refused GX's connection (credentials, grants or its certificate)."""


class ValidationUnreachable(Transient):
    """GX could not reach the server; it may be starting or the network may be down."""


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


def engine_url(connection: Mapping[str, Any], database: str) -> str:
    """The SQLAlchemy URL GX is given: driver, user, host, port and database, never the
    password (the ``creator`` supplies it)."""
    from sqlalchemy.engine import URL

    url = URL.create(
        "mysql+pymysql",
        username=connection["login"],
        host=connection["host"],
        port=int(connection.get("port") or 3306),
        database=database,
    )
    return url.render_as_string(hide_password=True)


def connector(connection: Mapping[str, Any], database: str) -> Callable[[], Any]:
    """Opens one PyMySQL connection that checks the server's certificate against the
    connection's CA and its name (refused by :func:`tls_options` when TLS is not asked for)."""
    tls = tls_options(f"{connection['host']} MySQL", connection.get("extra") or {})

    def connect() -> Any:
        import pymysql

        return pymysql.connect(
            host=connection["host"],
            port=int(connection.get("port") or 3306),
            user=connection["login"],
            password=connection.get("password") or "",
            database=database,
            ssl_ca=tls["ca"],
            ssl_cert=tls.get("cert"),
            ssl_key=tls.get("key"),
            ssl_verify_identity=True,
            connect_timeout=CONNECT_TIMEOUT,
            init_command=SESSION_SETTINGS,
        )

    return connect


def validate_database(
    cursor: Any,
    database: str,
    manifest: Mapping[str, Any],
    tolerance: Mapping[str, float],
    checksum_tables: tuple[str, ...] | None,
    row_slack: int = 0,
    *,
    connection: Mapping[str, Any],
) -> dict[str, Any]:
    """Every table's GX results and checksum verdict; ``success`` only if all hold.

    ``cursor`` lists the tables and computes the checksums; ``connection`` (host, port,
    login, password, extra with ``ssl``, as ``connection_settings`` returns it) reaches
    the same server for GX."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)  # no bars in task logs
    from great_expectations.datasource.fluent.interfaces import TestConnectionError
    from sqlalchemy.exc import SQLAlchemyError

    sources: Any = context.data_sources  # its stub leaves out add_sql's engine kwargs
    creator = connector(connection, database)
    source: Any = None
    try:
        source = sources.add_sql(
            "restored",
            connection_string=engine_url(connection, database),
            create_temp_table=False,  # whole tables are read in place; nothing is written
            kwargs={"creator": creator, "pool_pre_ping": True},
        )
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
            suite = gx.ExpectationSuite(name=f"restore_test.{table}")
            for expectation in expectations(entry, tolerance.get(table, 0.0), row_slack):
                suite.add_expectation(expectation)
            batch = (
                source.add_table_asset(name=table, table_name=table)
                .add_batch_definition_whole_table("all")
                .get_batch()
            )
            result = batch.validate(suite, result_format=RESULT_FORMAT)
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
                "rows": _observed_rows(result.results),
                "expected_rows": entry["row_count"],
                "expectations": len(result.results),
                "checksum_checked": checked,
                "failed": failed,
            }
    except (TestConnectionError, SQLAlchemyError) as error:
        raise _connection_error(error, connection, database) from error
    finally:
        if source is not None:
            source.get_execution_engine().engine.dispose()
            source.get_engine().dispose()
    extra = sorted(set(restored) - set(expected))
    success = all(t["success"] for t in tables.values()) and not extra
    failing = sorted(name for name, t in tables.items() if not t["success"])
    return {
        "success": success,
        "tables": tables,
        "unexpected_tables": extra,
        "failing_tables": failing,
        "engine": f"great_expectations {gx.__version__} (SQL, in the database)",
    }


def _connection_error(
    error: BaseException, connection: Mapping[str, Any], database: str
) -> BackupError:
    """Permanent when the server refused us (a person must fix the login, the grants or
    the CA), transient otherwise; the message names the server and the cause."""
    cause: BaseException = error
    while cause.__cause__ is not None or cause.__context__ is not None:
        cause = cause.__cause__ or cause.__context__  # type: ignore[assignment]
    where = f"{connection['host']}:{connection.get('port') or 3306}/{database}"
    code = cause.args[0] if cause.args and isinstance(cause.args[0], int) else None
    if code in REFUSED_CODES or "CERTIFICATE_VERIFY_FAILED" in str(cause):
        return ValidationRefused(
            f"GX could not validate {where}: the server refused the connection ({cause}); "
            "check the connection's login and grants, and that its extra ssl.ca is the CA "
            "that signed the server's certificate"
        )
    return ValidationUnreachable(
        f"GX could not reach {where} to validate it ({cause}); retried, as the server may "
        "be starting or the network down"
    )


def _observed_rows(results: list[Any]) -> int | None:
    """The table's row count, as GX's row-count expectation counted it in the database."""
    for found in results:
        if found.expectation_config is not None and found.expectation_config.type == ROW_COUNT:
            observed = (found.result or {}).get("observed_value")
            return int(observed) if observed is not None else None
    return None


def _describe(config: Any) -> str:
    """e.g. ``expect_column_values_to_be_unique customer_id``."""
    if config is None:
        return "an expectation failed"
    return f"{config.type} {config.kwargs.get('column', '')}".strip()
