-- Fuzhou birth-defect prevention project, NIPT subsidy (fuzhou-nipt-subsidy).
-- Versions judging (就医地 3501): 1.1.0 for 2019-01-01 … 2021-12-31 and 2.1.0 from 2022-01-01; they
-- revise 1.0.0 and 2.0.0 (same periods), which therefore do not judge. 1.1.0 and 2.1.0 read the subsidy
-- line alike and have the same rules but for FZ-W (and severities, not shown here), so every rule but
-- FZ-W covers the lines dated 2019-01-01 on (`inforce`), each version its own period (`ver`: FZ-7 counts
-- within one). The window rule FZ-W is judged by the newest version defining it, 2.1.0: from 2019-01-01,
-- no end.
-- Names are compared as claimcheck compares them (prelude: name); codes and ids as it reads them
-- (code, ident). No institution crosswalk is supplied: the institution is the one the pilot list or
-- the alias table gives the printed name (exact, then a bracketed second name, then a name cut by a
-- field length), else the printed name itself.
-- Refinement columns (subsidy_amt, serum_risk, poverty_flag): a rule reading one cannot judge a line
-- where it is empty, so a file without any value of one has no findings of FZ-2, FZ-2-poor, FZ-4 or
-- FZ-1-risk, as claimcheck's "not applicable".
WITH l AS (  -- one scan: the Fuzhou subsidy lines and the columns the rules read
  SELECT ident(mdtrt_id) AS mdtrt_id, ident(feedetl_sn) AS feedetl_sn, ident(psn_no) AS psn_no, code(fetts) AS fetts,
         code(insuplc_admdvs) AS insuplc, code(med_type) AS med_type, fixmedins_name,
         t, d, d >= DATE '2019-01-01' AS inforce, CASE WHEN d <= DATE '2021-12-31' THEN '1.1.0' ELSE '2.1.0' END AS ver,
         CAST(brdy AS DATE) AS brdy, CAST(cnt AS DOUBLE) AS cnt, CAST(det_item_fee_sumamt AS DOUBLE) AS amt,
         subsidy, CAST(serum_risk AS VARCHAR) AS serum_risk, CAST(poverty_flag AS BOOLEAN) AS poor,
         -- serum risk 1:N as 1/N, NULL when not of that form
         TRY_CAST(split_part(serum_risk, ':', 1) AS DOUBLE) / nullif(TRY_CAST(split_part(serum_risk, ':', 2) AS DOUBLE), 0) AS risk,
         date_sub('year', CAST(brdy AS DATE), d) AS age,               -- age on the test day
         date_sub('year', CAST(brdy AS DATE), d + 196) AS age_due,     -- age on the latest due date
         -- a refund line: negative quantity or amount, or 退费结算标志 1
         (cnt < 0 OR det_item_fee_sumamt < 0 OR coalesce(code(refd_setl_flag) = '1', false)) AS refund
  FROM (SELECT *, name(hilist_name) AS n, CAST(subsidy_amt AS DOUBLE) AS subsidy,
               CAST(fee_ocur_time AS TIMESTAMP) AS t, CAST(CAST(fee_ocur_time AS TIMESTAMP) AS DATE) AS d
        -- 退费结算标志 is optional: a NULL column where the file has none
        FROM (FROM read_parquet('{batch}') UNION ALL BY NAME (SELECT CAST(NULL AS VARCHAR) AS refd_setl_flag WHERE false)))
  WHERE starts_with(code(mdtrtarea_admvs), '3501')
    -- the subsidy line (fz_subsidy_item): the item named in 7号 五(二), in either word order …
    AND (n IN ('无创产前DNA检测减免补助(福州市出生缺陷防控项目)', '无创DNA产前检测减免补助(福州市出生缺陷防控项目)')
         -- … or that name cut by a field length, at 11 characters or more …
         OR (length(n) >= 11 AND (starts_with('无创产前DNA检测减免补助(福州市出生缺陷防控项目)', n)
                                  OR starts_with('无创DNA产前检测减免补助(福州市出生缺陷防控项目)', n)))
         -- … or a line paying a subsidy under a name like the NIPT test's
         OR (coalesce(subsidy > 0, false) AND (n LIKE '%无创%' OR n LIKE '%NIPT%' OR n LIKE '%产前%DNA%' OR n LIKE '%DNA%产前%')))),
-- institution identity: every name the pilot list knows an institution by (its own, priority 3; an
-- alias, 2), normalised, with the two parts of a bracketed name A(B)
known AS (
  SELECT inst, k, regexp_extract(k, '^([^()]+)[(](.+)[)]$', 1) AS k1, regexp_extract(k, '^([^()]+)[(](.+)[)]$', 2) AS k2, pri
  FROM (SELECT DISTINCT institution AS inst, name(institution) AS k, 3 AS pri
        FROM read_csv('{contracts}/fuzhou-nipt-subsidy/pilot_institutions.csv', all_varchar=true) WHERE institution IS NOT NULL
        UNION ALL
        SELECT institution, name(alias), 2 FROM read_csv('{contracts}/fuzhou-nipt-subsidy/institution_aliases.csv', all_varchar=true)
        WHERE institution IS NOT NULL)),
printed AS (
  SELECT fixmedins_name, n, regexp_extract(n, '^([^()]+)[(](.+)[)]$', 1) AS n1, regexp_extract(n, '^([^()]+)[(](.+)[)]$', 2) AS n2
  FROM (SELECT DISTINCT fixmedins_name, name(fixmedins_name) AS n FROM l)),
matched AS (
  SELECT p.fixmedins_name, k.pri, k.inst FROM printed p JOIN known k ON k.k = p.n            -- the name or an alias
  UNION ALL
  SELECT p.fixmedins_name, 4, k.inst FROM printed p JOIN known k                              -- A(B) printed for A or B, or A or B for A(B)
    ON (k.k IN (p.n1, p.n2) OR p.n IN (k.k1, k.k2)) AND p.n <> k.k AND p.n <> ''
  UNION ALL
  SELECT p.fixmedins_name, 5, min(k.inst) FROM printed p JOIN known k                         -- cut by a field length: the start of one institution's names
    ON starts_with(k.k, p.n) AND k.k <> p.n AND length(p.n) >= 10
  GROUP BY p.fixmedins_name HAVING count(DISTINCT k.inst) = 1),
s AS (  -- the subsidy lines with their institution
  SELECT l.*, i.institution
  FROM l LEFT JOIN (
    SELECT p.fixmedins_name, name(coalesce(arg_min(m.inst, CAST(m.pri AS VARCHAR) || m.inst), p.fixmedins_name)) AS institution
    FROM printed p LEFT JOIN matched m ON m.fixmedins_name = p.fixmedins_name GROUP BY p.fixmedins_name
  ) i ON i.fixmedins_name = l.fixmedins_name),
flags AS (  -- the rules judging each line on its own
  SELECT mdtrt_id, feedetl_sn, [
    -- FZ-1-insured: insured in Fuzhou, or provincial insurance (350000, 359900)
    CASE WHEN amt IS NOT NULL AND NOT (starts_with(insuplc, '3501') OR insuplc IN ('350000', '359900')) THEN 'FZ-1-insured' END,
    -- FZ-1-risk: serum risk above 1:1000, or 35 by the latest due date
    CASE WHEN amt IS NOT NULL AND NOT (risk > 0.001 OR age_due >= 35) THEN 'FZ-1-risk' END,
    -- FZ-1-age: under 35 on the test day, 35 by the latest due date, without a high serum risk
    CASE WHEN amt IS NOT NULL AND age < 35 AND age_due >= 35 AND NOT coalesce(risk > 0.001, false) THEN 'FZ-1-age' END,
    -- FZ-2, FZ-2-poor: at most 500 a line (1000 for a registered poor household)
    CASE WHEN NOT poor AND cnt IS NOT NULL AND subsidy > 500 + 0.005 THEN 'FZ-2' END,
    CASE WHEN poor AND cnt IS NOT NULL AND subsidy > 1000 + 0.005 THEN 'FZ-2-poor' END,
    -- FZ-3: only the two pilot institutions
    CASE WHEN amt IS NOT NULL AND institution NOT IN (SELECT name(institution) FROM read_csv(
           '{contracts}/fuzhou-nipt-subsidy/pilot_institutions.csv', all_varchar=true) WHERE institution IS NOT NULL) THEN 'FZ-3' END,
    -- FZ-4: a poor household at 福州市第一医院 pays nothing beyond the subsidy
    CASE WHEN poor AND institution = '福州市第一医院' AND NOT (amt <= subsidy + 0.005) THEN 'FZ-4' END,
    -- FZ-5: settled as an ordinary outpatient visit (med_type 11)
    CASE WHEN amt IS NOT NULL AND med_type <> '11' THEN 'FZ-5' END] AS hits
  FROM s WHERE inforce),
-- FZ-7: one subsidy per pregnancy (psn_no + fetts), counting lines (a refund line -1), in time order;
-- each version counts the lines of its own period
f7 AS (
  SELECT *, CASE WHEN refund THEN -1 ELSE 1 END AS u, fetts IS NOT NULL AS ok
  FROM s WHERE inforce AND psn_no IS NOT NULL AND cnt IS NOT NULL AND amt IS NOT NULL),
fz7_pregnancy AS (  -- every line taking its pregnancy's count above 1
  SELECT mdtrt_id, feedetl_sn FROM (
    SELECT mdtrt_id, feedetl_sn,
           sum(u) OVER (PARTITION BY ver, psn_no, fetts ORDER BY t, mdtrt_id, feedetl_sn ROWS UNBOUNDED PRECEDING) AS running
    FROM f7 WHERE ok)
  WHERE running > 1 + 0.005),
gap AS (  -- fetts empty: every line of a person (psn_no) with such a line, numbered in time order;
          -- a person with more than 200 is a placeholder id, not paired (a data-quality finding)
  SELECT * FROM (
    SELECT *, row_number() OVER (PARTITION BY ver, psn_no ORDER BY t, mdtrt_id, feedetl_sn) AS ord,
           count(*) OVER (PARTITION BY ver, psn_no) AS lines_of_key
    FROM f7 SEMI JOIN (SELECT DISTINCT ver, psn_no FROM f7 WHERE NOT ok) g ON g.ver = f7.ver AND g.psn_no = f7.psn_no)
  WHERE lines_of_key <= 200),
fz7_person AS (  -- a line (not a refund) that, with the person's earlier lines within 210 days (one of
                 -- each pair without fetts), comes above 1
  SELECT mdtrt_id, feedetl_sn FROM (
    SELECT x.mdtrt_id, x.feedetl_sn, x.ok, x.u + coalesce(sum(m.u), 0) AS total, count(m.u) AS partners
    FROM gap x LEFT JOIN gap m ON m.ver = x.ver AND m.psn_no = x.psn_no AND m.ord < x.ord AND m.d >= x.d - 210
                                  AND NOT (x.ok AND m.ok)
    WHERE x.u > 0
    GROUP BY x.mdtrt_id, x.feedetl_sn, x.ok, x.u)
  WHERE total > 1 + 0.005 AND (NOT ok OR partners > 0))
SELECT rule, mdtrt_id, feedetl_sn FROM (SELECT unnest(hits) AS rule, mdtrt_id, feedetl_sn FROM flags) WHERE rule IS NOT NULL
UNION ALL SELECT 'FZ-7', * FROM (SELECT * FROM fz7_pregnancy UNION SELECT * FROM fz7_person)  -- a line once
-- FZ-W: a subsidy line before the project began (2019-01-01)
UNION ALL SELECT 'FZ-W', mdtrt_id, feedetl_sn FROM l WHERE amt IS NOT NULL AND d < DATE '2019-01-01'
