"""The Jiangsu NIPT rules (contract jiangsu-nipt 1.0.0 as published: all 20, and the built-in DQ-MONEY
that runs beside them; not its revision 1.1.0, whose JS-PRICE-ANY this file does not have, so
bench_gx_pandera.py runs claimcheck with --contract jiangsu-nipt@1.0.0 beside it) hand-written as one pandera DataFrameSchema on the pandas backend, as a team without
claimcheck would write them: a custom check per rule and severity, each returning True for the
lines that pass. Row rules are vectorised column arithmetic; the visit, pregnancy and window rules
(JS-3, JS-5, JS-SAMPLE, JS-SAMPLE-draw, JS-7-*) use pandas groupby and merges. Reference tables
are read from the contract's CSV files; codes are copied from the contract.

What claimcheck does and this file does the same way, by hand: claim values normalised as the
engine reads them; the in-policy amount inpolicy_amt = T − F − O (each file's convention where F
or O is empty, decided here over the lines of the contract's codes in Jiangsu, without the visit
companions claimcheck adds); institution identity by canonical name and alias (no crosswalk);
a line whose needed values are empty, or whose `when` is NULL, is not judged; the 210-day
fallback of JS-7-* for an empty fetts (suspect, unless one line pays twice by itself); JS-8 and
JS-DIAG-INST suspect on an unmatched name; superseded findings dropped. Nothing claimcheck has
for this contract is left out: pandera's custom checks run any pandas code. Writes every finding
as `rule_id,mdtrt_id,feedetl_sn,severity` lines and prints their number.

    python bench/pandera_rules.py BATCH.parquet FINDINGS.csv
"""
from __future__ import annotations

import decimal
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pandera.pandas as pa
import pyarrow as arrow
import pyarrow.compute as pc
import pyarrow.parquet as pq

T = Path(__file__).resolve().parents[1] / "contracts" / "jiangsu-nipt"
DET = ["CJ30303033340301303001", "CJ30303033341300103001", "CJ30303033341300103004", "CJ30303033341301209001",
       "CJ30303032961300724001", "CJ30303033341101567002", "CJ30303033340300550001", "CJ30303033341301658001",
       "CJ30303032960301954001"]
DIA, TOL, ROUND = "250700010-b", 0.005, 0.01
SAMPLING = ["%游离DNA%", "%cfDNA%", "%样本采集%", "%标本采集%", "%样本转运%", "%标本转运%", "%样本运送%", "%标本运送%",
            "%样本外送%", "%标本外送%", "%样本处理%", "%标本处理%", "%文库构建%", "%上机检测%"]
DRAW = ["%采血%"]
OUTPATIENT = ["11", "13", "14", "16", "51"]
TRIM = " \t\n\r\f\v\u00a0\u3000"
IDS = ["mdtrt_id", "feedetl_sn", "psn_no"]
CODES = ["med_type", "mdtrtarea_admvs", "insuplc_admdvs", "fixmedins_code", "hilist_code", "chrgitm_lv", "fetts",
         "refd_setl_flag"]
TEXT = ["fixmedins_name", "hilist_name", "price_class"]
MONEY = ["cnt", "pric", "det_item_fee_sumamt", "fulamt_ownpay_amt", "overlmt_amt", "preselfpay_amt", "inscp_scp_amt"]
COLUMNS = [*IDS, *CODES, *TEXT, *MONEY, "fee_ocur_time"]


# ---- reading and normalising, as claimcheck's engine reads a line -----------------------------

def read(path: str) -> pd.DataFrame:
    names = {n.lower(): n for n in pq.read_schema(path).names}  # national names in any case
    t = pq.read_table(path, columns=[names[c] for c in COLUMNS if c in names])
    cols = {}
    for name, col in zip((n.lower() for n in t.column_names), t.columns):
        if name in MONEY:  # decimals through their text: the double DuckDB's exact cast gives
            col = pc.cast(pc.cast(col, arrow.string()) if arrow.types.is_decimal(col.type) else col, arrow.float64())
        elif name != "fee_ocur_time":
            col = pc.cast(col, arrow.string())
        cols[name] = col
    df = arrow.table(cols).to_pandas()
    for c in COLUMNS:  # an absent column is empty on every line
        if c not in df:
            df[c] = np.nan if c in MONEY else None
    for c in IDS:
        df[c] = df[c].str.strip(" ")
    for c in CODES:
        df[c] = df[c].str.strip(TRIM)
    if getattr(df["fee_ocur_time"].dt, "tz", None) is not None:
        df["fee_ocur_time"] = df["fee_ocur_time"].dt.tz_convert("Asia/Shanghai").dt.tz_localize(None)
    return df


def norm(s: pd.Series) -> pd.Series:
    """An institution name as claimcheck compares names: trimmed, no spaces, half-width brackets."""
    s = s.str.strip(TRIM).str.replace("（", "(", regex=False).str.replace("）", ")", regex=False)
    for ch in (" ", "\u3000", "\u00a0"):
        s = s.str.replace(ch, "", regex=False)
    return s


def like(names: pd.Series, patterns: list[str]) -> pd.Series:
    """hilist_name LIKE one of the patterns, names compared as claimcheck compares them, any case."""
    alts = ["".join(".*" if ch == "%" else "." if ch == "_" else ("\\" + ch if not ch.isalnum() else ch)
                    for ch in norm(pd.Series([p])).iloc[0]) for p in patterns]
    return norm(names).str.fullmatch("(?is)(?:" + "|".join(alts) + ")", na=False)


def round2(x: pd.Series) -> pd.Series:
    """DuckDB's round(x, 2) on doubles: the exact binary value rounded half away from zero."""
    v = x.to_numpy(dtype="float64")
    y = np.abs(v) * 100
    k = np.floor(y + 0.5)
    near = np.isfinite(y) & (np.abs(y - np.floor(y) - 0.5) < 1e-6)  # a tie within float error: decide exactly
    for i in np.nonzero(near)[0]:
        k[i] = float(decimal.Decimal(float(abs(v[i]))).quantize(decimal.Decimal("0.01"), decimal.ROUND_HALF_UP) * 100)
    return pd.Series(np.copysign(k / 100, v), index=x.index)


def prepare(df: pd.DataFrame) -> pd.DataFrame:
    """The flags, derived amounts, identities and reference-table values the rules read."""
    t, f, o, p, i = (df[c] for c in ("det_item_fee_sumamt", "fulamt_ownpay_amt", "overlmt_amt", "preselfpay_amt",
                                     "inscp_scp_amt"))
    day = df["fee_ocur_time"].dt.normalize()
    df["day"] = day
    df["js"] = df["mdtrtarea_admvs"].str.startswith("32", na=False)
    df["nt"] = df["mdtrtarea_admvs"].str.startswith("3206", na=False)
    df["inforce"] = df["js"] & (day >= "2025-01-01") & (day <= "2026-12-31")
    df["det"] = df["hilist_code"].isin(DET)
    df["dia"] = df["hilist_code"] == DIA
    df["nipt"] = df["inforce"] & (df["det"] | df["dia"])
    df["refund"] = (df["cnt"] < 0) | (df["det_item_fee_sumamt"] < 0) | (df["refd_setl_flag"] == "1")
    # money: the line's convention, the file's, and the in-policy amount (checks/claims/money.py)
    present = t.notna() & f.notna() & o.notna() & p.notna() & i.notna()
    excl, incl = (f + o + p + i - t).abs() <= 0.02, (f + o + i - t).abs() <= 0.02
    df["neither"] = present & ~excl & ~incl
    judged = df["js"] & (df["det"] | df["dia"])  # the lines of the contract's codes (not the visit companions)
    n_excl, n_incl = int((judged & present & excl & ~incl).sum()), int((judged & present & incl & ~excl).sum())
    conv = "mixed" if n_excl and n_incl else "excl" if n_excl else "incl" if n_incl else "unknown"
    tfo = t.notna() & f.notna() & o.notna()
    amt = pd.Series(np.nan, index=df.index)
    amt[tfo & ~df["neither"]] = round2(t - f - o)[tfo & ~df["neither"]]
    rest = ~tfo & i.notna()
    if conv == "incl":
        amt[rest] = i[rest]
    small = rest & p.notna() & (p.abs() <= 0.02)
    amt[small] = i[small]
    if conv == "excl":
        amt[rest & p.notna() & ~small] = round2(i + p)[rest & p.notna() & ~small]
    df["inpolicy"] = amt
    # institutions: canonical names of 附件1 and their aliases (in Jiangsu; no crosswalk given)
    a1 = pd.read_csv(T / "attachment1.csv", dtype=str)
    a1["n"] = norm(a1["institution"])
    aliases = pd.read_csv(T / "institution_aliases.csv", dtype=str)
    by_alias = dict(zip(norm(aliases["alias"]), norm(aliases["institution"])))
    name = norm(df["fixmedins_name"])
    alias = name.map(by_alias).where(df["js"])
    canon = name.where(df["js"] & name.isin(set(a1["n"])))
    df["inst"] = alias.fillna(canon).fillna(name)
    df["matched"] = alias.notna() | canon.notna()
    a1["price"] = a1["price"].astype(float)
    a1["hilist_code"] = a1["hilist_code"].str.strip(TRIM)
    keys = pd.MultiIndex.from_frame(df[["inst", "hilist_code"]])
    sel = a1[a1.role == "中选产前诊断机构"].groupby(["n", "hilist_code"]).price.max()
    par = a1[a1.role != "中选产前诊断机构"].groupby(["n", "hilist_code"]).price.max()
    df["sel"] = sel.reindex(keys).to_numpy()
    df["sel_row"] = keys.isin(sel.index)
    df["par"] = par.reindex(keys).to_numpy()
    df["par_row"] = keys.isin(par.index)
    df["pair_listed"] = keys.isin(pd.MultiIndex.from_frame(a1[["n", "hilist_code"]]))
    df["listed"] = df["inst"].isin(set(a1["n"]))
    df["diagnostic"] = df["inst"].isin(set(a1.loc[a1.role != "合作产前筛查机构", "n"]))
    a3 = pd.read_csv(T / "attachment3.csv", dtype=str)
    df["lim"] = df["hilist_code"].map(dict(zip(a3["hilist_code"].str.strip(TRIM), a3["payment_limit"].astype(float))))
    df["selfpay_exp"] = round2(df["inpolicy"] * 0.1)
    return df


def no(mask) -> pd.Series:
    """A check's result: pass where the finding mask is not True."""
    return ~mask.fillna(False).astype(bool)


# ---- the rules --------------------------------------------------------------------------------

def js3(d):
    """One visit's detection and diagnosis lines total at most 560; reported on the visit's last line."""
    n = d[d.nipt & d.cnt.notna() & d.det_item_fee_sumamt.notna() & d.mdtrt_id.notna()]
    n = n.sort_values(["fee_ocur_time", "feedetl_sn"], ascending=False)
    total = n.groupby("mdtrt_id")["det_item_fee_sumamt"].transform("sum")
    last = ~n.duplicated("mdtrt_id", keep="first")
    return pd.Series(~d.index.isin(n.index[(total > 560 + TOL) & last]), index=d.index)


def visits(d, mask) -> set:
    return set(d.loc[mask, "mdtrt_id"])


def exclusion(own, trigger, unless=None):
    """No line of `own` in a visit billing `trigger` (unless it also bills `unless`, other than `own`)."""
    def check(d):
        found = d.inforce & own(d) & d.det_item_fee_sumamt.notna() & d.mdtrt_id.isin(visits(d, d.inforce & trigger(d)))
        if unless is not None:
            found &= ~d.mdtrt_id.isin(visits(d, d.inforce & unless(d) & ~own(d)))
        return found
    return check


def sampling(d):
    return like(d.hilist_name, SAMPLING) & ~(d.det | d.dia)


def draw(d):
    return like(d.hilist_name, DRAW) & ~(d.det | d.dia)


def other_labs(d):
    return d.hilist_code.str.startswith("25", na=False) & (d.hilist_code != DIA)


def consultation(d):
    return d.hilist_code.str.startswith("1102", na=False)


def frequency(flag: str):
    """Paid once per pregnancy (psn_no + fetts): a running count in date order, refunds negative;
    with fetts empty, by psn_no within 210 days (suspect; a line of cnt 2 is twice by itself)."""
    def findings(d) -> dict[int, str]:
        n = d[d.nipt & d[flag] & (d.inscp_scp_amt != 0) & d.inscp_scp_amt.notna() & d.psn_no.notna()
              & d.cnt.notna() & d.det_item_fee_sumamt.notna()]
        n = n.sort_values(["fee_ocur_time", "mdtrt_id", "feedetl_sn"])
        u = np.where(n.refund, -1, 1) * n.cnt.abs()
        n = n.assign(u=u, ok=n.fetts.notna())
        out = {}
        k = n[n.ok]
        running = k.groupby(["psn_no", "fetts"])["u"].cumsum()
        out.update({ix: "violation" for ix in k.index[running > 1 + TOL]})
        n = n.assign(ord=n.groupby("psn_no").cumcount())
        x = n[n.u > 0]
        pairs = x[["psn_no", "ord", "day", "ok"]].reset_index().merge(
            n[["psn_no", "ord", "day", "ok", "u"]], on="psn_no", suffixes=("", "_m"))
        pairs = pairs[(pairs.ord_m < pairs.ord) & (pairs.day_m >= pairs.day - pd.Timedelta(days=210))
                      & ~(pairs.ok & pairs.ok_m)]
        prior = pairs.groupby("index")["u"].sum().reindex(x.index, fill_value=0)
        partners = pairs.groupby("index").size().reindex(x.index, fill_value=0)
        hit = (x.u + prior > 1 + TOL) & (~x.ok | (partners > 0))
        for ix in x.index[hit]:
            out.setdefault(ix, "violation" if x.at[ix, "u"] > 1 + TOL else "suspect")
        return out
    return findings


def js8(d):
    return d.nipt & (d.inpolicy > 0) & d.inst.notna() & d.det_item_fee_sumamt.notna() & ~d.listed


def selfpay(d, exactly):
    diff = d.preselfpay_amt - d.selfpay_exp
    base = d.nipt & d.inpolicy.notna() & d.preselfpay_amt.notna() & ~(d.inpolicy <= 0)
    return base & ((diff.abs() if exactly else diff) > ROUND)


def js6_nt(d):
    return selfpay(d, True) & d.insuplc_admdvs.str.startswith("3206", na=False)


def js6_presumed(d):
    return selfpay(d, True) & d.nt & (d.insuplc_admdvs.fillna("") == "")


def js4_nt(d):
    return (d.nipt & d.dia & d.nt & d.price_class.isin(["一类", "基层"]) & d.pric.notna() & d.cnt.notna()
            & (d.pric > 54 + TOL))


ROW_RULES = {  # rule -> (finding mask, severity)
    "JS-1-code": (lambda d: d.nipt & d.det & d.listed & d.det_item_fee_sumamt.notna() & ~d.pair_listed, "violation"),
    "JS-1-price": (lambda d: d.nipt & d.det & d.sel_row & d.cnt.notna() & (d.pric > d.sel + TOL), "violation"),
    "JS-2-price": (lambda d: d.nipt & d.det & d.par_row & d.cnt.notna() & (d.pric > d.par + TOL), "violation"),
    "JS-4": (lambda d: d.nipt & d.dia & d.cnt.notna() & (d.pric > 60 + TOL) & ~js4_nt(d), "violation"),
    "JS-4-NT": (js4_nt, "violation"),
    "JS-6-limit": (lambda d: d.nipt & d.lim.notna() & (d.inpolicy > d.lim * d.cnt + TOL), "violation"),
    "JS-6-selfpay": (lambda d: selfpay(d, False) & ~js6_nt(d) & ~js6_presumed(d), "violation"),
    "JS-6-NT": (js6_nt, "violation"),
    "JS-6-NT-presumed": (js6_presumed, "suspect"),
    "JS-6-class": (lambda d: d.nipt & (d.inpolicy != 0) & d.inpolicy.notna() & d.det_item_fee_sumamt.notna()
                   & d.chrgitm_lv.notna() & ~d.chrgitm_lv.isin(["02", "2"]), "violation"),
    "JS-6-setting": (lambda d: d.nipt & (d.inpolicy > 0) & d.det_item_fee_sumamt.notna() & d.med_type.notna()
                     & ~d.med_type.isin(OUTPATIENT), "violation"),
    "JS-8": (lambda d: js8(d) & d.matched, "violation"),
    "JS-8/suspect": (lambda d: js8(d) & ~d.matched, "suspect"),
    "JS-DIAG-INST": (lambda d: d.nipt & d.dia & d.listed & d.det_item_fee_sumamt.notna() & ~d.diagnostic, "suspect"),
    "JS-5": (exclusion(consultation, lambda d: d.dia), "violation"),
    "JS-SAMPLE": (exclusion(sampling, lambda d: d.det), "suspect"),
    "JS-SAMPLE-draw": (lambda d: exclusion(draw, lambda d: d.det, other_labs)(d)
                       & ~exclusion(sampling, lambda d: d.det)(d), "suspect"),
    "JS-W": (lambda d: d.js & d.dia & d.det_item_fee_sumamt.notna()
             & ((d.day < "2025-01-01") | (d.day > "2026-12-31")), "violation"),
    "DQ-MONEY": (lambda d: d.js & (d.det | d.dia) & d.neither, "data_quality"),
}
GROUP_RULES = {"JS-3": js3}
COUNT_RULES = {"JS-7-detection": frequency("det"), "JS-7-diagnosis": frequency("dia")}


def checks() -> list[pa.Check]:
    out = [pa.Check(lambda d, m=m: no(m(d)), name=f"{rule}|{sev}") for rule, (m, sev) in ROW_RULES.items()]
    out += [pa.Check(fn, name=f"{rule}|violation") for rule, fn in GROUP_RULES.items()]
    for rule, fn in COUNT_RULES.items():
        for sev in ("violation", "suspect"):
            out.append(pa.Check(lambda d, fn=fn, sev=sev: pd.Series(
                ~d.index.isin([ix for ix, s in fn(d).items() if s == sev]), index=d.index), name=f"{rule}|{sev}"))
    return out


def schema() -> pa.DataFrameSchema:
    return pa.DataFrameSchema({c: pa.Column(required=True, nullable=True) for c in COLUMNS}, checks=checks(),
                              strict=False)


def findings(df: pd.DataFrame) -> list[tuple[str, str, str, str]]:
    frame = prepare(df)
    try:
        schema().validate(frame, lazy=True)
        return []
    except pa.errors.SchemaErrors as err:
        fc = err.failure_cases
        broken = fc[fc["index"].isna()]
        if len(broken):  # a check that raised instead of judging
            raise SystemExit(f"pandera checks failed to run: {sorted(set(broken['check']))}\n{err}")
        fc = fc[fc["check"].str.contains("|", regex=False)].drop_duplicates(["check", "index"])
        rows = frame.loc[fc["index"].to_numpy(), ["mdtrt_id", "feedetl_sn"]]
        rule = fc["check"].str.split("|").str[0].str.split("/").str[0]
        sev = fc["check"].str.split("|").str[1]
        return sorted(zip(rule, rows["mdtrt_id"], rows["feedetl_sn"], sev))


def main(batch: str, out: str) -> None:
    rows = findings(read(batch))
    Path(out).write_text("".join(f"{r},{m},{s},{v}\n" for r, m, s, v in rows), encoding="utf-8")
    print(f"findings {len(rows)}")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
