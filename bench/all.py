"""Every scale benchmark (issue 12), on SQLite and PostgreSQL, as one table.

    uv run python bench/all.py [--store sqlite|postgres] [--only scale,ticks,...]

Each module in `BENCHES` exposes `async def rows(store: str) -> list[Row]` with the issue's sizes as
defaults; its own `main` runs it alone (with smaller sizes as arguments, for trying it out). The
approval loop's latency benchmark is `bench/run.py`.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import sys
from typing import Final

from table import Row, render  # bench/ is on sys.path when a script of it runs

BENCHES: Final = ("scale", "ticks", "burst", "acks", "decisions")
STORES: Final = ("sqlite", "postgres")


async def main(stores: tuple[str, ...], only: tuple[str, ...]) -> str:
    rows: list[Row] = []
    for name in only:
        module = importlib.import_module(name)
        for store in stores:
            for row in await module.rows(store):
                rows.append(Row(f"{row.measure} ({store})", *_rest(row)))
    return render(rows)


def _rest(row: Row) -> tuple[float, str, str, float | None, int]:
    return row.value, row.unit, row.bound, row.goal, row.digits


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--store", choices=STORES)
    parser.add_argument("--only", default=",".join(BENCHES))
    args = parser.parse_args()
    stores = (args.store,) if args.store else STORES
    only = tuple(n for n in args.only.split(",") if n)
    sys.stdout.write(asyncio.run(main(stores, only)) + "\n")
