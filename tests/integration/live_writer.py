"""A production application in miniature: it writes the live shop database continuously.

Every transaction touches several tables and keeps one invariant: the money in the
accounts plus the money held in pending payments is always ``TOTAL``. Transfers update
two accounts and insert a ledger row; holds move money from an account into a new
pending row; settlements delete a pending row and pay it into an account. Run as a
process (``python -m tests.integration.live_writer SOCKET DATABASE STOP_FILE``) until
the stop file appears; prints what it did as JSON.
"""

from __future__ import annotations

import json
import random
import sys
import time
from pathlib import Path
from typing import Any

import pymysql

ACCOUNTS = 200
START_BALANCE = 1_000
TOTAL = ACCOUNTS * START_BALANCE
RETRIED = {1205, 1213}  # lock wait timeout, deadlock: any InnoDB application retries them


def create(cursor: Any, database: str) -> None:
    """The schema and the opening balances."""
    cursor.execute(f"CREATE DATABASE `{database}` CHARACTER SET utf8mb4")
    cursor.execute(f"USE `{database}`")
    cursor.execute("CREATE TABLE accounts (id INT PRIMARY KEY, balance BIGINT NOT NULL)")
    cursor.execute(
        "CREATE TABLE pending (id BIGINT AUTO_INCREMENT PRIMARY KEY, account INT NOT NULL, "
        "amount BIGINT NOT NULL, note VARCHAR(40))"
    )
    cursor.execute(
        "CREATE TABLE ledger (id BIGINT AUTO_INCREMENT PRIMARY KEY, source INT NOT NULL, "
        "target INT NOT NULL, amount BIGINT NOT NULL, at DATETIME(6) NOT NULL)"
    )
    cursor.executemany(
        "INSERT INTO accounts VALUES (%s, %s)",
        [(i, START_BALANCE) for i in range(ACCOUNTS)],
    )


def invariant(cursor: Any, database: str) -> int:
    """The money in the database: ``TOTAL`` in any consistent state of it."""
    cursor.execute(
        f"SELECT (SELECT COALESCE(SUM(balance), 0) FROM `{database}`.accounts) + "
        f"(SELECT COALESCE(SUM(amount), 0) FROM `{database}`.pending)"
    )
    return int(cursor.fetchone()[0])


def one_transaction(cursor: Any, chance: random.Random) -> str:
    kind = chance.choice(("transfer", "transfer", "hold", "settle"))
    source, target = chance.sample(range(ACCOUNTS), 2)
    amount = chance.randint(1, 20)
    cursor.execute("START TRANSACTION")
    if kind == "transfer":
        cursor.execute("UPDATE accounts SET balance = balance - %s WHERE id = %s", (amount, source))
        cursor.execute("UPDATE accounts SET balance = balance + %s WHERE id = %s", (amount, target))
        cursor.execute(
            "INSERT INTO ledger (source, target, amount, at) VALUES (%s, %s, %s, NOW(6))",
            (source, target, amount),
        )
    elif kind == "hold":
        cursor.execute("UPDATE accounts SET balance = balance - %s WHERE id = %s", (amount, source))
        cursor.execute(
            "INSERT INTO pending (account, amount, note) VALUES (%s, %s, %s)",
            (target, amount, f"held from {source} ✓"),
        )
    else:
        cursor.execute("SELECT id, account, amount FROM pending ORDER BY id LIMIT 1 FOR UPDATE")
        row = cursor.fetchone()
        if row is not None:
            cursor.execute("DELETE FROM pending WHERE id = %s", (row[0],))
            cursor.execute(
                "UPDATE accounts SET balance = balance + %s WHERE id = %s", (row[2], row[1])
            )
    cursor.execute("COMMIT")
    return kind


def run(socket: str, database: str, stop: Path) -> dict[str, Any]:
    db = pymysql.connect(unix_socket=socket, user="root", database=database, autocommit=True)
    chance = random.Random(20)
    done: dict[str, Any] = {"committed": 0, "retried": 0, "kinds": {}, "commits_at": []}
    with db.cursor() as cursor:
        while not stop.exists():
            try:
                kind = one_transaction(cursor, chance)
            except pymysql.err.OperationalError as exc:
                if exc.args[0] not in RETRIED:
                    raise
                cursor.execute("ROLLBACK")
                done["retried"] += 1
                continue
            done["committed"] += 1
            done["kinds"][kind] = done["kinds"].get(kind, 0) + 1
            done["commits_at"].append(round(time.time(), 3))
            time.sleep(0.002)
    db.close()
    return done


if __name__ == "__main__":
    print(json.dumps(run(sys.argv[1], sys.argv[2], Path(sys.argv[3]))))
