"""The Jiangsu NIPT rules (contract jiangsu-nipt 1.0.0, all 16) as one pandera DataFrameSchema on the
pandas backend: a custom check per rule, each returning True for the lines that pass. Row rules are
vectorised column arithmetic; the visit, pregnancy and window rules (JS-3, JS-5, JS-7-*) use pandas
groupby. Reference tables are read from the contract's CSV files. Writes every finding as
`rule_id,mdtrt_id,feedetl_sn` lines and prints their number.

    python bench/pandera_rules.py BATCH.parquet FINDINGS.csv
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from checks.export.frame import normalise, norm, round_half_away  # noqa: E402  (DuckDB's cc_norm and round)

T = Path(__file__).resolve().parents[1] / "contracts" / "jiangsu-nipt"
DET = ["CJ30303033340301303001", "CJ30303033341300103001", "CJ30303033341300103004", "CJ30303033341301209001",
       "CJ30303032961300724001", "CJ30303033341101567002", "CJ30303033340300550001", "CJ30303033341301658001",
       "CJ30303032960301954001"]
DIA, TOL = "250700010-b", 0.005
FAMILIES = {"mdtrt_id": "code", "feedetl_sn": "code", "psn_no": "code", "med_type": "code", "fetts": "code",
            "mdtrtarea_admvs": "code", "fixmedins_name": "text", "fee_ocur_time": "timestamp", "hilist_code": "code",
            "chrgitm_lv": "code", "price_class": "text", "cnt": "number", "pric": "number",
            "det_item_fee_sumamt": "number", "inscp_scp_amt": "number", "preselfpay_amt": "number"}
COLUMNS = list(FAMILIES)


def prepare(df: pd.DataFrame) -> pd.DataFrame:
    """Types as claimcheck reads them, plus the flags and reference-table values the rules read."""
    df = df.copy()
    for c, fam in FAMILIES.items():
        df[c] = normalise(df[c], fam)
    a1 = pd.read_csv(T / "attachment1.csv", dtype=str)
    a1["n"] = norm(a1.rename(columns={"institution": "x"}), "x")
    a1["price"] = a1["price"].astype(float)
    sel = a1[a1.role == "中选产前诊断机构"].groupby(["n", "hilist_code"]).price.max().rename("sel")
    par = a1[a1.role != "中选产前诊断机构"].groupby(["n", "hilist_code"]).price.max().rename("par")
    pairs = a1.groupby(["n", "hilist_code"]).size().rename("pair_listed")
    a3 = pd.read_csv(T / "attachment3.csv", dtype=str).set_index("hilist_code")["payment_limit"].astype(float)
    df["n"] = norm(df, "fixmedins_name")
    keys = pd.MultiIndex.from_frame(df[["n", "hilist_code"]])
    df["sel"] = sel.reindex(keys).to_numpy()
    df["par"] = par.reindex(keys).to_numpy()
    df["pair_listed"] = pairs.reindex(keys).notna().to_numpy()
    df["listed"] = df["n"].isin(set(a1["n"]))
    df["lim"] = df["hilist_code"].map(a3)
    day = df["fee_ocur_time"].dt.normalize()
    df["js"] = df["mdtrtarea_admvs"].str.startswith("32", na=False)
    df["nt"] = df["mdtrtarea_admvs"].str.startswith("3206", na=False)
    df["inforce"] = df["js"] & (day >= "2025-01-01") & (day <= "2026-12-31")
    df["det"] = df["hilist_code"].isin(DET)
    df["dia"] = df["hilist_code"] == DIA
    df["nipt"] = df["inforce"] & (df["det"] | df["dia"])
    df["base"] = df["inscp_scp_amt"] + df["preselfpay_amt"]
    df["selfpay_diff"] = df["preselfpay_amt"] - round_half_away(df.assign(x=df["base"] * 0.1), "x", 2)
    df["day"] = day
    return df


def ok(mask) -> pd.Series:
    return ~mask.fillna(False).astype(bool)


def js3(df):
    """One visit's detection and diagnosis lines total at most 560; reported on the visit's last line."""
    n = df[df.nipt].sort_values(["fee_ocur_time", "feedetl_sn"])
    total = n.groupby("mdtrt_id")["det_item_fee_sumamt"].transform("sum")
    last = ~n.duplicated("mdtrt_id", keep="last")
    bad = n.index[(total > 560 + TOL) & last]
    return pd.Series(~df.index.isin(bad), index=df.index)


def js5(df):
    """No consultation fee (1102…) in a visit that bills the diagnosis report."""
    visits = set(df.loc[df.inforce & df.dia, "mdtrt_id"])
    return ok(df.inforce & df.hilist_code.str.startswith("1102", na=False) & df.mdtrt_id.isin(visits))


def js7(flag):
    """The fund pays once per pregnancy (psn_no + fetts): a running count in date order, refunds negative."""
    def check(df):
        n = df[df.nipt & df[flag] & (df.inscp_scp_amt != 0) & df.inscp_scp_amt.notna()
               & df.psn_no.notna() & df.fetts.notna()]
        n = n.sort_values(["fee_ocur_time", "mdtrt_id", "feedetl_sn"])
        refund = (n.cnt < 0) | (n.det_item_fee_sumamt < 0)
        units = np.where(refund, -1, 1) * n.cnt.abs()
        running = pd.Series(units, index=n.index).groupby([n.psn_no, n.fetts]).cumsum()
        return pd.Series(~df.index.isin(n.index[running > 1 + TOL]), index=df.index)
    return check


CHECKS = {
    "JS-1-code": lambda d: ok(d.nipt & d.det & d.listed & ~d.pair_listed),
    "JS-1-price": lambda d: ok(d.nipt & d.det & (d.pric > d.sel + TOL)),
    "JS-2-price": lambda d: ok(d.nipt & d.det & (d.pric > d.par + TOL)),
    "JS-3": js3,
    "JS-4": lambda d: ok(d.nipt & d.dia & (d.pric > 60 + TOL) & ~(d.nt & d.price_class.isin(["一类", "基层"]))),
    "JS-4-NT": lambda d: ok(d.nipt & d.dia & d.nt & d.price_class.isin(["一类", "基层"]) & (d.pric > 54 + TOL)),
    "JS-5": js5,
    "JS-6-limit": lambda d: ok(d.nipt & (d.base > d.lim * d.cnt + TOL)),
    "JS-6-selfpay": lambda d: ok(d.nipt & ~d.nt & (d.base > 0) & (d.selfpay_diff > 0.01)),
    "JS-6-NT": lambda d: ok(d.nipt & d.nt & (d.base > 0) & (d.selfpay_diff.abs() > 0.01)),
    "JS-6-class": lambda d: ok(d.nipt & ~d.chrgitm_lv.isin(["02", "2"])),
    "JS-6-setting": lambda d: ok(d.nipt & (d.inscp_scp_amt > 0) & d.med_type.notna()
                                 & ~d.med_type.isin(["11", "13", "14", "16", "51"])),
    "JS-7-detection": js7("det"),
    "JS-7-diagnosis": js7("dia"),
    "JS-8": lambda d: ok(d.nipt & (d.inscp_scp_amt > 0) & ~d.listed),
    "JS-W": lambda d: ok(d.js & d.dia & ((d.day < "2025-01-01") | (d.day > "2026-12-31"))),
}


def schema() -> pa.DataFrameSchema:
    return pa.DataFrameSchema({c: pa.Column(required=True, nullable=True) for c in COLUMNS},
                              checks=[pa.Check(fn, name=rule) for rule, fn in CHECKS.items()], strict=False)


def findings(df: pd.DataFrame) -> list[tuple[str, str, str]]:
    frame = prepare(df)
    try:
        schema().validate(frame, lazy=True)
        return []
    except pa.errors.SchemaErrors as err:
        fc = err.failure_cases
        broken = fc[fc["index"].isna()]
        if len(broken):  # a check that raised instead of judging
            raise SystemExit(f"pandera checks failed to run: {sorted(set(broken['check']))}\n{err}")
        fc = fc[fc["check"].isin(CHECKS.keys())].drop_duplicates(["check", "index"])
        rows = frame.loc[fc["index"].to_numpy(), ["mdtrt_id", "feedetl_sn"]]
        return sorted(zip(fc["check"], rows["mdtrt_id"], rows["feedetl_sn"]))


def main(batch: str, out: str) -> None:
    rows = findings(pd.read_parquet(batch, columns=COLUMNS))
    Path(out).write_text("".join(f"{r},{m},{s}\n" for r, m, s in rows), encoding="utf-8")
    print(f"findings {len(rows)}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
