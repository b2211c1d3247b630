-- Jiangsu consumables (jiangsu-consumables 1.1.0; it revises and so retires 1.0.0, same dates):
-- CS-1, CS-1-filed, CS-2, CS-2-ANY, CS-W. In force: 就医地 mdtrtarea_admvs 32…, fee date from
-- 2020-05-01. A consumable: a code starting C, but the nine NIPT reagent codes (judged by jiangsu-nipt).
-- As claimcheck judges them: codes trimmed (blank = NULL), a catalogue row read only where it is
-- valid on the line's date (valid_from … valid_to, blank = open), region a prefix of the line's
-- 就医地 (CS-2: or blank), the filing institution equal to fixmedins_code or blank, prices to the
-- half fen, paid lines by inpolicy_amt = T − F − O (inpolicy), a line judged only where every
-- value its rule reads is present, and a finding dropped where a superseding rule found the line
-- (CS-W over CS-1 over CS-1-filed; CS-2 over CS-2-ANY).
-- The catalogue: the user table sunshine_catalogue ({sunshine_catalogue}), with its valid_from / valid_to columns.
-- Not written: the look-alike lines under a local code (counted by claimcheck as not judged; no finding).
WITH l AS MATERIALIZED (  -- the batch, read once: the consumable lines in force
  SELECT * FROM (
    SELECT ident(mdtrt_id) AS mdtrt_id, ident(feedetl_sn) AS feedetl_sn, code(mdtrtarea_admvs) AS r,
           code(fixmedins_code) AS inst, code(hilist_code) AS c, CAST(fee_ocur_time AS DATE) AS d,
           CAST(cnt AS DOUBLE) AS cnt, CAST(pric AS DOUBLE) AS pric, CAST(det_item_fee_sumamt AS DOUBLE) AS amt,
           CAST(fulamt_ownpay_amt AS DOUBLE) AS f, CAST(overlmt_amt AS DOUBLE) AS o,
           CAST(preselfpay_amt AS DOUBLE) AS p, CAST(inscp_scp_amt AS DOUBLE) AS i
    FROM read_parquet('{batch}'))
  WHERE starts_with(r, '32') AND d >= DATE '2020-05-01' AND starts_with(c, 'C')
    AND c NOT IN ('CJ30303033340301303001', 'CJ30303033341300103001', 'CJ30303033341300103004',
                  'CJ30303033341301209001', 'CJ30303032961300724001', 'CJ30303033341101567002',
                  'CJ30303033340300550001', 'CJ30303033341301658001', 'CJ30303032960301954001')),
conv AS (  -- the file's money convention: the one its lines' parts add up under
  SELECT CASE WHEN nx > 0 AND ni > 0 THEN 'mixed' WHEN nx > 0 THEN 'excl' WHEN ni > 0 THEN 'incl' ELSE 'unknown' END AS fc
  FROM (SELECT count(*) FILTER (WHERE k = 'excl') AS nx, count(*) FILTER (WHERE k = 'incl') AS ni
        FROM (SELECT conv(amt, f, o, p, i) AS k FROM l))),
cat AS (
  SELECT code(hilist_code) AS c, code(region) AS region, code(filing_fixmedins_code) AS filer,
         CAST(listed_price AS DOUBLE) AS price, CAST(valid_from AS DATE) AS vf, CAST(valid_to AS DATE) AS vt
  FROM read_csv('{sunshine_catalogue}', all_varchar = true)),
keys AS (SELECT DISTINCT c, r, inst, d FROM l),
m AS (  -- each (code, region, institution, date) of the lines against its code's catalogue rows
  SELECT c, r, inst, d,
    coalesce(bool_or(ok AND starts_with(r, region)), FALSE) AS in_region,            -- listed where it is used (CS-1)
    coalesce(bool_or(ok AND starts_with(r, region)
                     AND (filer IS NULL OR filer = inst)), FALSE) AS filed_ok,         -- and for this institution (CS-1-filed)
    max(price) FILTER (WHERE ok AND (region IS NULL OR starts_with(r, region))
                       AND (filer IS NULL OR filer = inst)) AS lim,                    -- the listed price that applies (CS-2)
    max(price) FILTER (WHERE ok) AS top,                                              -- any listed price of the code (CS-2-ANY)
    coalesce(bool_or(vt IS NOT NULL), FALSE) AS withdrawn                             -- listed once, with an end date (CS-W)
  FROM (SELECT k.*, t.region, t.filer, t.price, t.vt,
               (t.vf IS NULL OR k.d >= t.vf) AND (t.vt IS NULL OR k.d <= t.vt) AS ok  -- the row is valid on the date
        FROM keys k LEFT JOIN cat t ON t.c = k.c)
  GROUP BY c, r, inst, d),
flagged AS (
  SELECT l.mdtrt_id, l.feedetl_sn, m.withdrawn,
    coalesce(inpolicy(amt, f, o, p, i, (SELECT fc FROM conv)) <> 0, FALSE) AS paid,
    l.amt IS NOT NULL AS amt_ok, l.inst IS NOT NULL AS inst_ok, m.in_region, m.filed_ok,
    coalesce(l.inst IS NOT NULL AND l.cnt IS NOT NULL AND l.pric > m.lim + 0.005, FALSE) AS over_lim,
    coalesce(l.cnt IS NOT NULL AND l.pric > m.top + 0.005, FALSE) AS over_top
  FROM l JOIN m ON m.c = l.c AND m.r = l.r AND m.inst IS NOT DISTINCT FROM l.inst AND m.d = l.d)
SELECT rule, mdtrt_id, feedetl_sn FROM (
  SELECT mdtrt_id, feedetl_sn, unnest([
    -- CS-1: paid, and no catalogue row of the 就医地 valid on the date (CS-W when withdrawn)
    CASE WHEN paid AND amt_ok AND NOT in_region AND NOT withdrawn THEN 'CS-1' END,
    -- CS-W: paid, listed once (a row with valid_to), no row valid on the date
    CASE WHEN paid AND amt_ok AND NOT in_region AND withdrawn THEN 'CS-W' END,
    -- CS-1-filed: paid, listed where it is used, but only for another (filing) institution
    CASE WHEN paid AND amt_ok AND inst_ok AND in_region AND NOT filed_ok THEN 'CS-1-filed' END,
    -- CS-2: the unit price above the listed price that applies to the line
    CASE WHEN over_lim THEN 'CS-2' END,
    -- CS-2-ANY: the unit price above every listed price of the code
    CASE WHEN over_top AND NOT over_lim THEN 'CS-2-ANY' END]) AS rule
  FROM flagged)
WHERE rule IS NOT NULL
