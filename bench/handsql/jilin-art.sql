-- Jilin assisted reproduction (jilin-art), every rule of the version in force. 1.1.0 revises 1.0.0
-- with the same dates (2024-07-01 on, open) and region (22), so 1.0.0 is retired and judges no line;
-- 1.1.0 adds JL-MAT-PRESELF. In force = region 22 and fee date from 2024-07-01; JL-W alone reads
-- every date. Rules with `when: inpolicy_amt <> 0` judge only lines whose in-policy amount is known
-- and not 0 ("paid" below); a line missing a value a rule reads is not judged (no finding).
-- The batch has no refd_setl_flag column: a refund (counted negative by JL-3/JL-3-embryo) is a line
-- with a negative quantity or amount.
WITH raw AS (
  SELECT ident(mdtrt_id) AS mdtrt_id, ident(feedetl_sn) AS feedetl_sn, ident(psn_no) AS psn,
         code(mdtrtarea_admvs) AS r, code(insutype) AS ins, code(med_type) AS med_type,
         code(fixmedins_code) AS fcode, fixmedins_name AS fname, fee_ocur_time AS t,
         CAST(fee_ocur_time AS DATE) AS d, code(hilist_code) AS c, code(chrgitm_lv) AS lv,
         code(main_diag_code) AS diag, CAST(cnt AS DOUBLE) AS cnt,
         CAST(det_item_fee_sumamt AS DOUBLE) AS amt, CAST(fulamt_ownpay_amt AS DOUBLE) AS f,
         CAST(overlmt_amt AS DOUBLE) AS o, CAST(preselfpay_amt AS DOUBLE) AS p,
         CAST(inscp_scp_amt AS DOUBLE) AS i
  FROM read_parquet('{batch}')),
-- Jilin lines billing one of the 8 ART items (code set art), or paid by maternity insurance (510);
-- conv: which money convention the line's parts add up under (T = F+O+P+I excl, T = F+O+I incl)
l AS (
  SELECT *, c IN ('311600001','311600002','311600005','311600008','311600009','311600010','311600011','311600012') AS art,
         CASE WHEN amt IS NULL OR f IS NULL OR o IS NULL OR p IS NULL OR i IS NULL THEN NULL
              WHEN abs(f + o + p + i - amt) <= 0.02 AND abs(f + o + i - amt) <= 0.02 THEN 'either'
              WHEN abs(f + o + p + i - amt) <= 0.02 THEN 'excl'
              WHEN abs(f + o + i - amt) <= 0.02 THEN 'incl' ELSE 'neither' END AS conv
  FROM raw WHERE starts_with(r, '22') AND (art OR ins = '510')),
-- the file's convention, for lines lacking F or O: the one its lines follow ('mixed' if both); here
-- over this query's lines (claimcheck: over the candidate lines of every contract it runs)
fconv AS (
  SELECT CASE WHEN bool_or(conv = 'excl') AND bool_or(conv = 'incl') THEN 'mixed'
              WHEN bool_or(conv = 'excl') THEN 'excl' WHEN bool_or(conv = 'incl') THEN 'incl' ELSE 'unknown' END AS fc
  FROM l),
-- ip: the in-policy amount inpolicy_amt (T - F - O; NULL when the parts add up under neither convention)
m AS (
  SELECT l.*, d >= DATE '2024-07-01' AS inforce,
         CASE WHEN amt IS NOT NULL AND f IS NOT NULL AND o IS NOT NULL
                THEN CASE WHEN conv = 'neither' THEN NULL ELSE round(amt - f - o, 2) END
              WHEN i IS NOT NULL AND fc = 'incl' THEN i
              WHEN i IS NOT NULL AND p IS NOT NULL AND abs(p) <= 0.02 THEN i
              WHEN i IS NOT NULL AND p IS NOT NULL AND fc = 'excl' THEN round(i + p, 2) END AS ip
  FROM l, fconv),
-- the attachment's fund payment standard of the 6 items paid per time (per line, cnt not multiplied)
std AS (SELECT code(hilist_code) AS c, CAST(fund_standard AS DOUBLE) AS std
        FROM read_csv('{contracts}/jilin-art/attachment.csv', all_varchar=true)
        WHERE code(hilist_code) IN ('311600001','311600002','311600005','311600009','311600010','311600011')),
-- JL-PGT: the diagnoses of biopsy lines that start with an indication's ICD-10 prefix
pgt_ok AS (
  SELECT DISTINCT x.diag FROM (SELECT DISTINCT diag FROM m WHERE c = '311600008') x
  JOIN read_csv('{contracts}/jilin-art/pgt_indications.csv', all_varchar=true) g ON starts_with(x.diag, code(g.icd_prefix))),
-- JL-INST: the approved institutions (user table): a listed code (the code outranks the name), else the
-- name equal to a listed one, or a bracketed name A(B)/B(A) of a listed A (or a listed A(B) printed as
-- A or B), or a name of 10+ characters cut off from exactly one listed institution's name. A row with
-- a blank name approves nothing (claimcheck reads an empty cell as '', whose bracket match approves
-- every unbracketed name: not copied)
approved AS (
  SELECT name(institution) AS k, code(fixmedins_code) AS code, institution,
         regexp_extract(name(institution), '^([^()]+)[(](.+)[)]$', 1) AS p1,
         regexp_extract(name(institution), '^([^()]+)[(](.+)[)]$', 2) AS p2
  FROM read_csv('{art_institutions}', all_varchar=true) WHERE name(institution) <> ''),
inst AS (
  SELECT fcode, fname,
         coalesce(bool_or(a.code = n.fcode OR a.k = n.n
                          OR (n.n <> '' AND n.n <> a.k AND (a.k IN (n.p1, n.p2) OR n.n IN (a.p1, a.p2)))), FALSE)
         OR count(DISTINCT a.institution) FILTER (WHERE length(n.n) >= 10 AND starts_with(a.k, n.n) AND a.k <> n.n) = 1 AS ok
  FROM (SELECT *, regexp_extract(n, '^([^()]+)[(](.+)[)]$', 1) AS p1, regexp_extract(n, '^([^()]+)[(](.+)[)]$', 2) AS p2
        FROM (SELECT DISTINCT fcode, fname, name(fname) AS n FROM m WHERE art)) n, approved a
  GROUP BY ALL),
-- one pass over the lines: JL-3 / JL-3-embryo count a person's fund-paid lines of each item in time
-- order (JL-3 by quantity, the 6 per-time items; JL-3-embryo by lines: biopsy, ICSI; refunds negative)
w AS (
  SELECT m.*, s.std, x.ok, m.c IN ('311600001','311600002','311600005','311600009','311600010','311600011') AS per_time,
         coalesce(inforce AND art AND i <> 0 AND psn IS NOT NULL AND cnt IS NOT NULL AND amt IS NOT NULL, FALSE) AS counted,
         coalesce(ip <> 0, FALSE) AND amt IS NOT NULL AS paid,
         sum(CASE WHEN NOT counted THEN 0
                  ELSE CASE WHEN cnt < 0 OR amt < 0 THEN -1 ELSE 1 END * CASE WHEN per_time THEN abs(cnt) ELSE 1 END END)
           OVER (PARTITION BY psn, m.c ORDER BY t, mdtrt_id, feedetl_sn ROWS UNBOUNDED PRECEDING) AS run
  FROM m LEFT JOIN std s ON s.c = m.c
         LEFT JOIN inst x ON x.fcode IS NOT DISTINCT FROM m.fcode AND x.fname IS NOT DISTINCT FROM m.fname),
flags AS (
  SELECT mdtrt_id, feedetl_sn, [
    -- JL-1: per-time item, in-policy amount above its fund standard, per line (cnt unused but must be
    -- present); a line JL-3 finds is JL-3's only (supersedes)
    CASE WHEN inforce AND per_time AND cnt IS NOT NULL AND ip > std + 0.005
              AND NOT (counted AND per_time AND run > 1.005) THEN 'JL-1' END,
    -- JL-1-biopsy: 1500 for the first embryo, +750 each further, at most 6000
    CASE WHEN inforce AND c = '311600008' AND ip > least(1500 + greatest(cnt - 1, 0) * 750, 6000) + 0.005 THEN 'JL-1-biopsy' END,
    -- JL-1-icsi: 3750 an oocyte (activation included), at most 6000
    CASE WHEN inforce AND c = '311600012' AND ip > least(3750 + greatest(cnt - 1, 0) * 3750, 6000) + 0.005 THEN 'JL-1-icsi' END,
    -- JL-2: outpatient only
    CASE WHEN inforce AND art AND paid AND med_type NOT IN ('11','13','14','16','51') THEN 'JL-2' END,
    -- JL-3: once per person and item, counting quantity
    CASE WHEN counted AND per_time AND run > 1.005 THEN 'JL-3' END,
    -- JL-3-embryo: biopsy and ICSI once per person, counting lines
    CASE WHEN counted AND c IN ('311600008','311600012') AND run > 1.005 THEN 'JL-3-embryo' END,
    -- JL-INST: fund-paid at an institution not approved (a line without a name nor a listed code is not judged)
    CASE WHEN inforce AND art AND paid AND fname IS NOT NULL AND NOT ok THEN 'JL-INST' END,
    -- JL-PGT: biopsy without a monogenic or chromosomal-structural main diagnosis
    CASE WHEN inforce AND c = '311600008' AND paid AND diag NOT IN (SELECT diag FROM pgt_ok) THEN 'JL-PGT' END,
    -- JL-class: paid as class B (乙类)
    CASE WHEN inforce AND art AND paid AND lv NOT IN ('02','2') THEN 'JL-class' END,
    -- JL-MAT-PRESELF: a maternity-insurance line (ART items excepted) with self-pay-first
    CASE WHEN inforce AND ins = '510' AND c IS NOT NULL AND NOT art AND amt IS NOT NULL AND coalesce(p, 0) > 0.005
         THEN 'JL-MAT-PRESELF' END,
    -- JL-W: fund-paid before 2024-07-01
    CASE WHEN art AND paid AND d < DATE '2024-07-01' THEN 'JL-W' END] AS hits
  FROM w)
SELECT rule, mdtrt_id, feedetl_sn FROM (SELECT unnest(hits) AS rule, mdtrt_id, feedetl_sn FROM flags) WHERE rule IS NOT NULL
