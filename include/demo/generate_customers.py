"""Regenerate the demo customer CSVs in ``customers/`` (deterministic: same seed, same bytes).

Run once by hand when the demo data's shape changes: ``python include/demo/generate_customers.py``.
"""

from __future__ import annotations

import csv
import random
from datetime import datetime, timedelta
from pathlib import Path

HERE = Path(__file__).parent / "customers"
FIRST = ["Ada", "Ben", "Cara", "Dev", "Ema", "Finn", "Gita", "Hugo", "Isla", "Jon", "Kai", "Lena"]
LAST = ["Okafor", "Smith", "Nowak", "Patel", "Evans", "Murphy", "Khan", "Jones", "Silva", "Brown"]
COUNTRIES = ["GB", "GB", "GB", "IE", "FR", "DE", "NL"]
SUBJECTS = ["Cannot log in", "Refund request", "Delivery late", "Change address", "Invoice copy"]


def main() -> None:
    rng = random.Random(20220830)  # noqa: S311 - repeatable demo data, not a secret
    epoch = datetime(2023, 1, 1)
    customers = []
    for cid in range(1, 1201):
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        created = epoch + timedelta(minutes=rng.randrange(900_000))
        email = f"{name.lower().replace(' ', '.')}.{cid}@example.com"
        customers.append(
            [
                cid,
                name,
                email,
                rng.choice(COUNTRIES),
                f"{created:%Y-%m-%d %H:%M:%S}",
                rng.randrange(2),
            ]
        )
    orders: list[list[object]] = []
    items: list[list[object]] = []
    for oid in range(1, 3001):
        placed = epoch + timedelta(minutes=rng.randrange(1_000_000))
        lines = [
            (f"SKU-{rng.randrange(1, 400):04d}", rng.randrange(1, 5), rng.randrange(199, 9_999))
            for _ in range(2)
        ]
        total = sum(quantity * unit for _, quantity, unit in lines)
        orders.append(
            [
                oid,
                rng.randrange(1, 1201),
                f"{placed:%Y-%m-%d %H:%M:%S}",
                rng.choice(["paid", "shipped", "refunded"]),
                total,
            ]
        )
        items.extend([oid, *line] for line in lines)
    items = [[iid, *line] for iid, line in enumerate(items, start=1)]
    tickets = []
    for tid in range(1, 801):
        opened = epoch + timedelta(minutes=rng.randrange(1_000_000))
        tickets.append(
            [
                tid,
                rng.randrange(1, 1201),
                f"{opened:%Y-%m-%d %H:%M:%S}",
                rng.choice(SUBJECTS),
                rng.choice(["open", "closed"]),
            ]
        )
    tables = {
        "customers": customers,
        "orders": orders,
        "order_items": items,
        "support_tickets": tickets,
    }
    for table, rows in tables.items():
        with (HERE / f"{table}.csv").open("w", newline="", encoding="utf-8") as handle:
            csv.writer(handle, lineterminator="\n").writerows(rows)


if __name__ == "__main__":
    main()
