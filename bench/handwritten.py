"""The baseline: the bundled contracts' rules written by hand in DuckDB SQL, run as one statement
over the Parquet batch, without claim-file validation, reports, waivers or citations. Prints the
number of findings and their checksum.

    python bench/handwritten.py BATCH.parquet [--contracts jiangsu-nipt,jilin-art,...]
        [--table sunshine_catalogue=CSV] [--table art_institutions=CSV]
        [--compare FINDINGS.parquet] [--memory-limit 512MB]

Each contract's rules are one query in `bench/handsql/CONTRACT.sql` giving (rule, mdtrt_id,
feedetl_sn) for every finding; `prelude.sql` holds the macros they share. The statement run is the
UNION ALL of the chosen contracts' queries (each reads the columns it needs from the file). In the
queries `{batch}` is the batch, `{contracts}` the bundled contracts folder and `{NAME}` the user
table NAME (by default the sample tables that bench_profiles passes to `claimcheck check`).

`--compare` reads `claimcheck check --findings` of the same batch with the same tables and
compares, rule by rule, the lines each found (data-quality findings and contracts not chosen left
out): the baseline is only a baseline if it finds what claimcheck finds. Exit 1 on a difference.
"""
from __future__ import annotations

import argparse
import collections
import hashlib
import sys
import tempfile
from pathlib import Path

import duckdb

HERE = Path(__file__).resolve().parent
SQL = HERE / "handsql"
CONTRACTS = HERE.parent / "contracts"
TABLES = {"sunshine_catalogue": CONTRACTS / "jiangsu-consumables" / "sample_catalogue.csv",
          "art_institutions": CONTRACTS / "jilin-art" / "sample_art_institutions.csv"}


def written() -> list[str]:
    """The contracts that have a hand-written query."""
    return sorted(p.stem for p in SQL.glob("*.sql") if p.stem != "prelude")


def statement(batch: str, contracts: list[str], tables: dict[str, Path]) -> str:
    subs = {"batch": batch, "contracts": str(CONTRACTS), **{k: str(v) for k, v in tables.items()}}
    parts = []
    for c in contracts:
        q = (SQL / f"{c}.sql").read_text(encoding="utf-8")
        for k, v in subs.items():
            q = q.replace("{" + k + "}", v)
        parts.append(f"SELECT rule, mdtrt_id, feedetl_sn FROM (\n{q.strip().rstrip(';')}\n)")
    return "\nUNION ALL\n".join(parts)


def run(batch: str, contracts: list[str], tables: dict[str, Path],
        memory_limit: str | None = None) -> list[tuple[str, str, str]]:
    with tempfile.TemporaryDirectory(prefix="handsql-") as spill:  # where DuckDB spills past the limit
        con = duckdb.connect(config={"temp_directory": spill})
        con.execute("SET TimeZone = 'Asia/Shanghai'")
        if memory_limit:  # else DuckDB's own (80% of RAM)
            con.execute(f"SET memory_limit = '{memory_limit}'")
        con.execute((SQL / "prelude.sql").read_text(encoding="utf-8"))
        try:
            return con.sql(statement(batch, contracts, tables)).fetchall()
        finally:
            con.close()


def compare(hand: list[tuple], findings: str, contracts: list[str]) -> int:
    """Rule by rule, the lines the engine found against the lines the hand-written SQL found."""
    con = duckdb.connect()
    ids = ", ".join(f"'{c}'" for c in contracts)
    ours = con.sql(f"SELECT rule_id, mdtrt_id, feedetl_sn FROM read_parquet('{findings}') "
                   f"WHERE severity <> 'data_quality' AND contract_id IN ({ids})").fetchall()
    a, b = collections.Counter(ours), collections.Counter(hand)
    rules = sorted({r[0] for r in ours} | {r[0] for r in hand})
    bad = 0
    print(f"{'rule':<26}{'claimcheck':>11}{'hand':>8}{'only ours':>11}{'only hand':>11}")
    for rule in rules:
        x = collections.Counter({k: v for k, v in a.items() if k[0] == rule})
        y = collections.Counter({k: v for k, v in b.items() if k[0] == rule})
        only_x, only_y = x - y, y - x
        bad += bool(only_x or only_y)
        mark = "" if not (only_x or only_y) else "  <- " + "; ".join(
            f"{k[1]}/{k[2]}" for k in list(only_x or only_y)[:3])
        print(f"{rule:<26}{sum(x.values()):>11}{sum(y.values()):>8}{sum(only_x.values()):>11}"
              f"{sum(only_y.values()):>11}{mark}")
    print(f"{len(rules) - bad} of {len(rules)} rules find the same lines")
    return 1 if bad else 0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("batch")
    ap.add_argument("--contracts", default=",".join(written()))
    ap.add_argument("--table", action="append", default=[], metavar="NAME=PATH")
    ap.add_argument("--compare", metavar="FINDINGS.parquet")
    ap.add_argument("--memory-limit", help="DuckDB's memory limit (claimcheck's default: 512MB); "
                                           "without it, DuckDB's own (80%% of RAM)")
    a = ap.parse_args()
    tables = dict(TABLES)
    for t in a.table:
        name, _, path = t.partition("=")
        tables[name] = Path(path).resolve()
    contracts = a.contracts.split(",")
    rows = sorted(run(a.batch, contracts, tables, a.memory_limit))
    digest = hashlib.sha256("\n".join("|".join(r) for r in rows).encode()).hexdigest()[:16]
    print(f"findings {len(rows)} checksum {digest}")
    if a.compare:
        sys.exit(compare(rows, a.compare, contracts))


if __name__ == "__main__":
    main()
