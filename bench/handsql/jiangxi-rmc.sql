-- Jiangxi third-batch national regional medical centre price items, 附表2 trial items (jiangxi-rmc).
-- Version judging: 1.1.0 (就医地 36, from 2025-09-30, open-ended). It revises 1.0.0 (same period), so
-- 1.0.0 does not judge; 1.1.0 adds JX-5-ketone. Every rule covers the lines of 36 dated 2025-09-30 on
-- (`inforce`), except the window rule JX-W, whose point is the lines before that.
-- Names are compared as claimcheck compares them (prelude: name); codes and ids as it reads them
-- (code, ident). No institution crosswalk is supplied, so the institution is the one 附表2's
-- names or the alias table give the printed name (exact, then a bracketed second name, then a name
-- cut by a field length), else the printed name itself.
WITH l AS (  -- one scan: the Jiangxi lines and the columns the rules read
  SELECT ident(mdtrt_id) AS mdtrt_id, ident(feedetl_sn) AS feedetl_sn, code, item,
         fixmedins_name, t, CAST(t AS DATE) AS d, CAST(t AS DATE) >= DATE '2025-09-30' AS inforce,
         CAST(cnt AS DOUBLE) AS cnt, CAST(pric AS DOUBLE) AS pric, CAST(det_item_fee_sumamt AS DOUBLE) AS amt,
         -- a refund line: negative quantity or amount, or 退费结算标志 1
         (cnt < 0 OR det_item_fee_sumamt < 0 OR coalesce(code(refd_setl_flag) = '1', false)) AS refund,
         -- the code sets
         code IN ('QYLS00144','QYLS00145','QYLS00146','QYLS00147','QYLS00148','QYLS00149','QYLS00150','QYLS00151',
                  'QYLS00152','QYLS00153','QYLS00154','QYLS00155','QYLS00156','QYLS00158','QYLS00159','QYLS00160',
                  'QYLS00161','QYLS00162','QYLS00163','QYLS00164','QYLS00165','QYLS00166','QYLS00167','QYLS00168',
                  'QYLS00169') AS restricted,                     -- 附表2 序号1–25: only the applying hospital
         code IN ('QYFK00066','QYFK00067') AS open,              -- 附表2 序号26–27: any hospital of the province
         code IN ('QYLS00144','QYLS00146','QYLS00147','QYLS00148','QYLS00149','QYLS00151','QYLS00152','QYLS00153',
                  'QYLS00158','QYLS00160','QYLS00161','QYLS00163','QYLS00165','QYLS00166','QYLS00167','QYLS00168',
                  'QYFK00066') OR starts_with(code, '33') AS surgery,  -- operations: chapter 33 and 附表2's
         contains(item, '清创') AND code <> 'QYFK00067' AS debridement  -- by name (含“清创”), not the add-on
  FROM (SELECT *, code(hilist_code) AS code, name(hilist_name) AS item, CAST(fee_ocur_time AS TIMESTAMP) AS t
        -- 退费结算标志 is optional: a NULL column where the file has none
        FROM (FROM read_parquet('{batch}') UNION ALL BY NAME (SELECT CAST(NULL AS VARCHAR) AS refd_setl_flag WHERE false)))
  WHERE starts_with(code(mdtrtarea_admvs), '36')),
a2 AS (SELECT * FROM read_csv('{contracts}/jiangxi-rmc/attachment2.csv', all_varchar=true)),
-- institution identity: every name 附表2 knows a hospital by (its own, priority 3; an alias, 2), normalised,
-- with the two parts of a bracketed name A(B)
known AS (
  SELECT inst, k, regexp_extract(k, '^([^()]+)[(](.+)[)]$', 1) AS k1, regexp_extract(k, '^([^()]+)[(](.+)[)]$', 2) AS k2, pri
  FROM (SELECT DISTINCT hospital AS inst, name(hospital) AS k, 3 AS pri FROM a2 WHERE hospital IS NOT NULL
        UNION ALL
        SELECT institution, name(alias), 2 FROM read_csv('{contracts}/jiangxi-rmc/institution_aliases.csv', all_varchar=true)
        WHERE institution IS NOT NULL)),
printed AS (
  SELECT fixmedins_name, n, regexp_extract(n, '^([^()]+)[(](.+)[)]$', 1) AS n1, regexp_extract(n, '^([^()]+)[(](.+)[)]$', 2) AS n2
  FROM (SELECT DISTINCT fixmedins_name, name(fixmedins_name) AS n FROM l WHERE restricted)),
matched AS (
  SELECT p.fixmedins_name, k.pri, k.inst FROM printed p JOIN known k ON k.k = p.n            -- the name or an alias
  UNION ALL
  SELECT p.fixmedins_name, 4, k.inst FROM printed p JOIN known k                              -- A(B) printed for A or B, or A or B for A(B)
    ON (k.k IN (p.n1, p.n2) OR p.n IN (k.k1, k.k2)) AND p.n <> k.k AND p.n <> ''
  UNION ALL
  SELECT p.fixmedins_name, 5, min(k.inst) FROM printed p JOIN known k                         -- cut by a field length: the start of one hospital's names
    ON starts_with(k.k, p.n) AND k.k <> p.n AND length(p.n) >= 10
  GROUP BY p.fixmedins_name HAVING count(DISTINCT k.inst) = 1),
institution AS (
  SELECT p.fixmedins_name, name(coalesce(arg_min(m.inst, CAST(m.pri AS VARCHAR) || m.inst), p.fixmedins_name)) AS institution
  FROM printed p LEFT JOIN matched m ON m.fixmedins_name = p.fixmedins_name GROUP BY p.fixmedins_name),
-- JX-1: a restricted trial item billed by a hospital 附表2 does not list it for
jx1 AS (
  SELECT l.mdtrt_id, l.feedetl_sn
  FROM l JOIN institution i ON i.fixmedins_name = l.fixmedins_name
  LEFT JOIN (SELECT DISTINCT name(hospital) AS institution, code(hilist_code) AS code FROM a2
             WHERE scope = '仅限申报医院使用') a ON a.institution = i.institution AND a.code = l.code
  WHERE l.inforce AND l.restricted AND l.amt IS NOT NULL AND i.institution IS NOT NULL AND a.code IS NULL),
-- JX-3: a trial item's unit price above 附表2's (items without a price are not judged)
jx3 AS (
  SELECT l.mdtrt_id, l.feedetl_sn
  FROM l JOIN (SELECT code(hilist_code) AS code, max(CAST(price AS DOUBLE)) AS price FROM a2
               WHERE price IS NOT NULL GROUP BY 1) p ON p.code = l.code
  WHERE l.inforce AND (l.restricted OR l.open) AND l.cnt IS NOT NULL AND l.pric > p.price + 0.005),
-- add-ons: per visit, the units of each base item left after refunds (an add-on is never its own base)
visit AS (
  SELECT mdtrt_id,
         sum(units) FILTER (WHERE code = 'QYLS00158') AS screw,
         sum(units) FILTER (WHERE surgery AND code <> 'QYLS00164') AS surgery,
         sum(units) FILTER (WHERE debridement) AS debridement
  FROM (SELECT mdtrt_id, code, surgery, debridement, CASE WHEN refund THEN -1 ELSE 1 END * abs(coalesce(cnt, 1)) AS units
        FROM l WHERE inforce AND (code = 'QYLS00158' OR surgery OR debridement))
  GROUP BY mdtrt_id),
addon AS (  -- JX-3-addon, JX-3-addon-fluorescence, JX-3-addon-debridement: an add-on line (not a refund) without its base
  SELECT CASE l.code WHEN 'QYLS00159' THEN 'JX-3-addon' WHEN 'QYLS00164' THEN 'JX-3-addon-fluorescence'
                     ELSE 'JX-3-addon-debridement' END AS rule, l.mdtrt_id, l.feedetl_sn
  FROM l LEFT JOIN visit v ON v.mdtrt_id = l.mdtrt_id
  WHERE l.inforce AND l.code IN ('QYLS00159', 'QYLS00164', 'QYFK00067') AND l.cnt IS NOT NULL AND l.amt IS NOT NULL
    AND NOT l.refund
    AND coalesce(CASE l.code WHEN 'QYLS00159' THEN v.screw WHEN 'QYLS00164' THEN v.surgery ELSE v.debridement END, 0) <= 0),
-- JX-3-base-units: QYLS00158 counts 1 per visit; every line taking the visit's units (refunds negative,
-- in time order) above 1
units AS (
  SELECT mdtrt_id, feedetl_sn FROM (
    SELECT mdtrt_id, feedetl_sn,
           sum(CASE WHEN refund THEN -1 ELSE 1 END * abs(cnt)) OVER (PARTITION BY mdtrt_id ORDER BY t, mdtrt_id, feedetl_sn
                                                                    ROWS UNBOUNDED PRECEDING) AS running
    FROM l WHERE inforce AND code = 'QYLS00158' AND mdtrt_id IS NOT NULL AND cnt IS NOT NULL AND amt IS NOT NULL)
  WHERE running > 1 + 0.005)
SELECT 'JX-1' AS rule, mdtrt_id, feedetl_sn FROM jx1
UNION ALL SELECT 'JX-3', * FROM jx3
UNION ALL SELECT * FROM addon
UNION ALL SELECT 'JX-3-base-units', * FROM units
-- JX-5-ketone: blood ketone (named 血酮) billed under 250102012 above 9.2 per item
UNION ALL SELECT 'JX-5-ketone', mdtrt_id, feedetl_sn FROM l
  WHERE inforce AND contains(item, '血酮') AND code = '250102012' AND cnt IS NOT NULL AND pric > 9.2 + 0.005
-- JX-W: a trial code billed before 2025-09-30
UNION ALL SELECT 'JX-W', mdtrt_id, feedetl_sn FROM l
  WHERE (restricted OR open) AND amt IS NOT NULL AND d < DATE '2025-09-30'
