"""``python -m include.dr.infra``: write ``infra/`` from the policy file and the calls.

- ``inventory``: the calls the last test sessions recorded (``.local/aws-calls``) are
  added to ``infra/call-inventory.json`` (``--fresh``: replace it); run it after a whole
  ``make test``.
- ``templates`` (the default): the CloudFormation templates, from ``include/policy.yaml``
  and the committed inventory.
"""

from __future__ import annotations

import argparse
import sys

from include.dr.infra.files import write_inventory, write_templates


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m include.dr.infra", description=__doc__)
    parser.add_argument("what", choices=["templates", "inventory"], nargs="?", default="templates")
    parser.add_argument(
        "--fresh", action="store_true", help="inventory: only the calls just recorded"
    )
    args = parser.parse_args(argv)
    written = write_inventory(args.fresh) if args.what == "inventory" else write_templates()
    for path in written:
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
