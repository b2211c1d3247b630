"""The baseline: the Jiangsu NIPT rules written by hand as one DuckDB statement over the Parquet
batch (row rules as flags of one scan, then the visit, pregnancy and window parts), without
claim-file validation. Prints the number of findings and their checksum.

    python bench/handwritten.py BATCH.parquet
"""
from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import duckdb

HERE = Path(__file__).resolve().parent
T = HERE.parent / "contracts" / "jiangsu-nipt"

DET = ("'CJ30303033340301303001','CJ30303033341300103001','CJ30303033341300103004','CJ30303033341301209001',"
       "'CJ30303032961300724001','CJ30303033341101567002','CJ30303033340300550001','CJ30303033341301658001',"
       "'CJ30303032960301954001'")

SQL = f"""
CREATE MACRO norm(x) AS replace(replace(replace(replace(trim(x), '（', '('), '）', ')'), ' ', ''), '　', '');
WITH l AS (
  SELECT mdtrt_id, feedetl_sn, psn_no, fetts, mdtrtarea_admvs AS r, norm(fixmedins_name) AS n,
         hilist_code AS c, CAST(fee_ocur_time AS DATE) AS d, fee_ocur_time AS t, med_type, chrgitm_lv,
         price_class, cnt, CAST(pric AS DOUBLE) AS pric, CAST(det_item_fee_sumamt AS DOUBLE) AS amt,
         CAST(inscp_scp_amt AS DOUBLE) AS i, CAST(preselfpay_amt AS DOUBLE) AS p,
         c IN ({DET}) AS det, c = '250700010-b' AS dia, starts_with(c, '1102') AS cons,
         starts_with(r, '32') AND d BETWEEN DATE '2025-01-01' AND DATE '2026-12-31' AS inforce
  FROM read_parquet('{{batch}}')),
a1raw AS (SELECT * FROM read_csv('{T / "attachment1.csv"}', all_varchar=true)),
a1 AS (SELECT norm(institution) AS n, hilist_code AS c,
              max(CAST(price AS DOUBLE)) FILTER (WHERE role = '中选产前诊断机构') AS sel,
              max(CAST(price AS DOUBLE)) FILTER (WHERE role <> '中选产前诊断机构') AS par
       FROM a1raw GROUP BY ALL),
inst AS (SELECT DISTINCT norm(institution) AS n FROM a1raw),
a3 AS (SELECT hilist_code AS c, CAST(payment_limit AS DOUBLE) AS lim FROM read_csv('{T / "attachment3.csv"}', all_varchar=true)),
nipt AS (
  SELECT l.*, x.sel, x.par, x.n IS NOT NULL AS pair_listed, s.n IS NOT NULL AS listed, a3.lim
  FROM l LEFT JOIN a1 x ON x.n = l.n AND x.c = l.c LEFT JOIN inst s ON s.n = l.n LEFT JOIN a3 ON a3.c = l.c
  WHERE l.inforce AND (l.det OR l.dia)),
flags AS (
  SELECT mdtrt_id, feedetl_sn, [
    CASE WHEN det AND listed AND NOT pair_listed THEN 'JS-1-code' END,
    CASE WHEN det AND sel IS NOT NULL AND pric > sel + 0.005 THEN 'JS-1-price' END,
    CASE WHEN det AND par IS NOT NULL AND pric > par + 0.005 THEN 'JS-2-price' END,
    CASE WHEN dia AND pric > 60.005 AND NOT (starts_with(r, '3206') AND coalesce(price_class IN ('一类','基层'), false)) THEN 'JS-4' END,
    CASE WHEN dia AND starts_with(r, '3206') AND coalesce(price_class IN ('一类','基层'), false) AND pric > 54.005 THEN 'JS-4-NT' END,
    CASE WHEN i + p > lim * cnt + 0.005 THEN 'JS-6-limit' END,
    CASE WHEN NOT starts_with(r, '3206') AND i + p > 0 AND p - round((i + p) * 0.1, 2) > 0.01 THEN 'JS-6-selfpay' END,
    CASE WHEN starts_with(r, '3206') AND i + p > 0 AND abs(p - round((i + p) * 0.1, 2)) > 0.01 THEN 'JS-6-NT' END,
    CASE WHEN NOT coalesce(chrgitm_lv IN ('02', '2'), false) THEN 'JS-6-class' END,
    CASE WHEN coalesce(i > 0, false) AND med_type NOT IN ('11','13','14','16','51') THEN 'JS-6-setting' END,
    CASE WHEN coalesce(i > 0, false) AND NOT listed THEN 'JS-8' END] AS hits
  FROM nipt),
js3 AS (
  SELECT k.mdtrt_id, k.feedetl_sn FROM (
    SELECT arg_max(struct_pack(mdtrt_id, feedetl_sn), (t, feedetl_sn)) AS k
    FROM nipt GROUP BY mdtrt_id HAVING sum(amt) > 560.005)),
js5 AS (
  SELECT mdtrt_id, feedetl_sn FROM l WHERE inforce AND cons
    AND mdtrt_id IN (SELECT mdtrt_id FROM l WHERE inforce AND dia)),
js7 AS (
  SELECT rule, mdtrt_id, feedetl_sn FROM (
    SELECT CASE WHEN det THEN 'JS-7-detection' ELSE 'JS-7-diagnosis' END AS rule, mdtrt_id, feedetl_sn,
           sum(cnt) OVER (PARTITION BY psn_no, fetts, det ORDER BY t, mdtrt_id, feedetl_sn ROWS UNBOUNDED PRECEDING) AS run
    FROM nipt WHERE i <> 0 AND psn_no IS NOT NULL AND fetts IS NOT NULL) WHERE run > 1.005),
jsw AS (SELECT mdtrt_id, feedetl_sn FROM l WHERE starts_with(r, '32') AND dia AND d < DATE '2025-01-01')
SELECT rule, mdtrt_id, feedetl_sn FROM (SELECT unnest(hits) AS rule, mdtrt_id, feedetl_sn FROM flags) WHERE rule IS NOT NULL
UNION ALL SELECT 'JS-3', * FROM js3
UNION ALL SELECT 'JS-5', * FROM js5
UNION ALL SELECT * FROM js7
UNION ALL SELECT 'JS-W', * FROM jsw
ORDER BY 1, 2, 3
"""


def main(batch: str) -> None:
    con = duckdb.connect()
    con.execute("SET TimeZone = 'Asia/Shanghai'")
    stmts = SQL.replace("{batch}", batch).split(";\n", 1)
    con.execute(stmts[0])
    rows = con.sql(stmts[1]).fetchall()
    digest = hashlib.sha256("\n".join("|".join(r) for r in rows).encode()).hexdigest()[:16]
    print(f"findings {len(rows)} checksum {digest}")


if __name__ == "__main__":
    main(sys.argv[1])
