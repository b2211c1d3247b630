-- Jiangsu NIPT (jiangsu-nipt 1.1.0; it revises and so retires 1.0.0, same dates): all 21 executable
-- rules. In force: 就医地 mdtrtarea_admvs 32…, fee date 2025-01-01 … 2026-12-31 (JS-W: any date).
-- As claimcheck judges them: codes trimmed (blank = NULL), names compared as name writes them,
-- money to the half fen (0.005; self-pay-first to the fen, 0.01), the in-policy amount
-- inpolicy_amt = T − F − O (inpolicy), a line judged only where every value its rule reads is
-- present, and a finding dropped where a rule that supersedes its rule found the same line.
-- The institution of a line (JS-1-code, JS-1-price, JS-2-price, JS-8, JS-DIAG-INST) is resolved
-- once per printed name: an alias or canonical name of 附件1, a bracketed second name, or a name cut
-- by a field length (no crosswalk table is supplied to the bench).
-- The money convention of the file (used only where F or O is empty) is taken over this query's lines.
-- JS-7 counts within the batch (claimcheck without --history); a refund is a negative cnt or amount
-- (refd_setl_flag, which claimcheck also reads, is not a column of the bench batches).
WITH l AS MATERIALIZED (  -- the batch, read once: Jiangsu lines in force, and diagnosis lines of any date (JS-W)
  SELECT *, c IN ('CJ30303033340301303001', 'CJ30303033341300103001', 'CJ30303033341300103004',
                  'CJ30303033341301209001', 'CJ30303032961300724001', 'CJ30303033341101567002',
                  'CJ30303033340300550001', 'CJ30303033341301658001', 'CJ30303032960301954001') AS det,
            c = '250700010-b' AS dia,
            d BETWEEN DATE '2025-01-01' AND DATE '2026-12-31' AS inb
  FROM (
    SELECT ident(mdtrt_id) AS mdtrt_id, ident(feedetl_sn) AS feedetl_sn, ident(psn_no) AS psn_no,
           code(fetts) AS fetts, code(mdtrtarea_admvs) AS r, code(insuplc_admdvs) AS ins,
           fixmedins_name AS fname, code(hilist_code) AS c, hilist_name AS hname,
           fee_ocur_time AS t, CAST(fee_ocur_time AS DATE) AS d, code(med_type) AS med_type,
           code(chrgitm_lv) AS lv, CAST(price_class AS VARCHAR) AS price_class,
           CAST(cnt AS DOUBLE) AS cnt, CAST(pric AS DOUBLE) AS pric, CAST(det_item_fee_sumamt AS DOUBLE) AS amt,
           CAST(fulamt_ownpay_amt AS DOUBLE) AS f, CAST(overlmt_amt AS DOUBLE) AS o,
           CAST(preselfpay_amt AS DOUBLE) AS p, CAST(inscp_scp_amt AS DOUBLE) AS i
    FROM read_parquet('{batch}'))
  WHERE starts_with(r, '32') AND (d BETWEEN DATE '2025-01-01' AND DATE '2026-12-31' OR c = '250700010-b')),
conv AS (  -- the file's money convention: the one its lines' parts add up under
  SELECT CASE WHEN nx > 0 AND ni > 0 THEN 'mixed' WHEN nx > 0 THEN 'excl' WHEN ni > 0 THEN 'incl' ELSE 'unknown' END AS fc
  FROM (SELECT count(*) FILTER (WHERE k = 'excl') AS nx, count(*) FILTER (WHERE k = 'incl') AS ni
        FROM (SELECT conv(amt, f, o, p, i) AS k FROM l))),
nl AS (  -- detection and diagnosis lines in force, with their in-policy amount
  SELECT l.*, inpolicy(amt, f, o, p, i, (SELECT fc FROM conv)) AS ip FROM l WHERE inb AND (det OR dia)),

-- 附件1 and 附件3, and the institution of each printed name
a1 AS (SELECT institution, name(institution) AS inst, code(hilist_code) AS c, role, CAST(price AS DOUBLE) AS price
       FROM read_csv('{contracts}/jiangsu-nipt/attachment1.csv', all_varchar = true)),
a3 AS (SELECT code(hilist_code) AS c, max(CAST(payment_limit AS DOUBLE)) AS lim
       FROM read_csv('{contracts}/jiangsu-nipt/attachment3.csv', all_varchar = true) GROUP BY 1),
known AS (  -- every name an institution is known by: its canonical name (priority 3) or an alias (2)
  SELECT *, regexp_extract(k, '^([^()]+)[(](.+)[)]$', 1) AS k1, regexp_extract(k, '^([^()]+)[(](.+)[)]$', 2) AS k2
  FROM (SELECT DISTINCT institution, inst AS k, 3 AS pri FROM a1 WHERE institution IS NOT NULL
        UNION ALL
        SELECT institution, name(alias), 2
        FROM read_csv('{contracts}/jiangsu-nipt/institution_aliases.csv', all_varchar = true) WHERE institution IS NOT NULL)),
printed AS (
  SELECT *, regexp_extract(n, '^([^()]+)[(](.+)[)]$', 1) AS n1, regexp_extract(n, '^([^()]+)[(](.+)[)]$', 2) AS n2
  FROM (SELECT fname, name(fname) AS n FROM (SELECT DISTINCT fname FROM nl))),
matched AS (
  SELECT p.fname, k.pri, k.institution FROM printed p JOIN known k ON k.k = p.n           -- the name or an alias
  UNION ALL
  SELECT p.fname, 4, k.institution FROM printed p JOIN known k                             -- A(B) printed for A or B, or A or B for A(B)
    ON (k.k IN (p.n1, p.n2) OR p.n IN (k.k1, k.k2)) AND p.n <> k.k AND p.n <> ''
  UNION ALL
  SELECT p.fname, 5, min(k.institution) FROM printed p JOIN known k                        -- cut by a field length: starts one institution's names
    ON starts_with(k.k, p.n) AND k.k <> p.n AND length(p.n) >= 10
  GROUP BY p.fname HAVING count(DISTINCT k.institution) = 1),
ident AS (  -- the best match (priority, then name); else the name as printed
  SELECT p.fname, name(coalesce(arg_min(m.institution, CAST(m.pri AS VARCHAR) || m.institution), p.fname)) AS inst
  FROM printed p LEFT JOIN matched m ON m.fname = p.fname GROUP BY p.fname),
pair AS (SELECT inst, c, max(price) FILTER (WHERE role = '中选产前诊断机构') AS sel,
                         max(price) FILTER (WHERE role <> '中选产前诊断机构') AS par
         FROM a1 GROUP BY inst, c),
listed AS (SELECT inst, coalesce(bool_or(role <> '合作产前筛查机构'), FALSE) AS diagnoses FROM a1 GROUP BY inst),
any_price AS (SELECT c, max(price) AS top FROM a1 GROUP BY c),
n AS (
  SELECT nl.*, x.inst, s.inst IS NOT NULL AS listed, coalesce(s.diagnoses, FALSE) AS diagnoses,
         q.c IS NOT NULL AS pair_listed, q.sel, q.par, tp.top, a3.lim
  FROM nl LEFT JOIN ident x ON x.fname = nl.fname
          LEFT JOIN listed s ON s.inst = x.inst
          LEFT JOIN pair q ON q.inst = x.inst AND q.c = nl.c
          LEFT JOIN any_price tp ON tp.c = nl.c
          LEFT JOIN a3 ON a3.c = nl.c),

-- the line rules: flags of one pass
flagged AS (
  SELECT *,
    coalesce(det AND cnt IS NOT NULL AND pric > sel + 0.005, FALSE) AS p1,           -- JS-1-price
    coalesce(det AND cnt IS NOT NULL AND pric > par + 0.005, FALSE) AS p2,           -- JS-2-price
    coalesce(det AND cnt IS NOT NULL AND pric > top + 0.005, FALSE) AS pany,         -- JS-PRICE-ANY
    coalesce(dia AND cnt IS NOT NULL AND pric > 60.005, FALSE) AS d4,                -- JS-4
    coalesce(dia AND starts_with(r, '3206') AND price_class IN ('一类', '基层')
             AND cnt IS NOT NULL AND pric > 54.005, FALSE) AS d4nt,                  -- JS-4-NT
    coalesce(ip > 0 AND p - round(ip * 0.1, 2) > 0.01, FALSE) AS sp,               -- JS-6-selfpay
    coalesce(starts_with(ins, '3206') AND ip > 0 AND abs(p - round(ip * 0.1, 2)) > 0.01, FALSE) AS nt,     -- JS-6-NT
    coalesce(starts_with(r, '3206') AND ins IS NULL AND ip > 0
             AND abs(p - round(ip * 0.1, 2)) > 0.01, FALSE) AS ntp                   -- JS-6-NT-presumed
  FROM n),
line_hits AS (
  SELECT mdtrt_id, feedetl_sn, [
    CASE WHEN det AND listed AND amt IS NOT NULL AND NOT pair_listed THEN 'JS-1-code' END,
    CASE WHEN p1 THEN 'JS-1-price' END,
    CASE WHEN p2 THEN 'JS-2-price' END,
    CASE WHEN pany AND NOT p1 AND NOT p2 THEN 'JS-PRICE-ANY' END,
    CASE WHEN d4 AND NOT d4nt THEN 'JS-4' END,
    CASE WHEN d4nt THEN 'JS-4-NT' END,
    CASE WHEN ip > lim * cnt + 0.005 THEN 'JS-6-limit' END,
    CASE WHEN sp AND NOT nt AND NOT ntp THEN 'JS-6-selfpay' END,
    CASE WHEN nt THEN 'JS-6-NT' END,
    CASE WHEN ntp THEN 'JS-6-NT-presumed' END,
    CASE WHEN ip <> 0 AND amt IS NOT NULL AND lv NOT IN ('02', '2') THEN 'JS-6-class' END,
    CASE WHEN ip > 0 AND amt IS NOT NULL AND med_type NOT IN ('11', '13', '14', '16', '51') THEN 'JS-6-setting' END,
    CASE WHEN ip > 0 AND amt IS NOT NULL AND inst IS NOT NULL AND NOT listed THEN 'JS-8' END,
    CASE WHEN dia AND listed AND amt IS NOT NULL AND NOT diagnoses THEN 'JS-DIAG-INST' END] AS hits
  FROM flagged),

-- JS-3: one visit's detection and diagnosis lines together over 560, reported on its last line
js3 AS (
  SELECT k.mdtrt_id, k.feedetl_sn FROM (
    SELECT arg_max(struct_pack(mdtrt_id, feedetl_sn), struct_pack(t, feedetl_sn)) AS k, sum(amt) AS total
    FROM nl WHERE mdtrt_id IS NOT NULL AND cnt IS NOT NULL AND amt IS NOT NULL GROUP BY mdtrt_id)
  WHERE total > 560.005),

-- JS-5: a consultation fee (1102…) in a visit billing the diagnosis
js5 AS (
  SELECT mdtrt_id, feedetl_sn FROM l SEMI JOIN (SELECT DISTINCT mdtrt_id FROM nl WHERE dia) v USING (mdtrt_id)
  WHERE inb AND starts_with(c, '1102') AND amt IS NOT NULL),

-- JS-SAMPLE, JS-SAMPLE-draw: NIPT sampling, or a blood draw, billed in a visit billing the
-- detection (items known by name); a draw is spared in a visit with another lab test (25…)
dl AS (SELECT l.* FROM l SEMI JOIN (SELECT DISTINCT mdtrt_id FROM nl WHERE det) v USING (mdtrt_id) WHERE inb),
names AS (
  SELECT hname, regexp_matches(x, '游离DNA|CFDNA|样本采集|标本采集|样本转运|标本转运|样本运送|标本运送|样本外送|标本外送|样本处理|标本处理|文库构建|上机检测') AS sampling,
         contains(x, '采血') AS draw
  FROM (SELECT hname, name(hname) AS x FROM (SELECT DISTINCT hname FROM dl))),
co AS (
  SELECT dl.mdtrt_id, dl.feedetl_sn, dl.amt, s.sampling AND NOT (det OR dia) AS sampling, s.draw AND NOT (det OR dia) AS draw,
         starts_with(c, '25') AND c <> '250700010-b' AND NOT (s.draw AND NOT (det OR dia)) AS lab
  FROM dl LEFT JOIN names s ON s.hname = dl.hname),
jss AS (
  SELECT CASE WHEN coalesce(sampling, FALSE) THEN 'JS-SAMPLE' ELSE 'JS-SAMPLE-draw' END AS rule, mdtrt_id, feedetl_sn
  FROM co
  WHERE amt IS NOT NULL AND (coalesce(sampling, FALSE) OR (coalesce(draw, FALSE)
        AND mdtrt_id NOT IN (SELECT mdtrt_id FROM co WHERE lab)))),

-- JS-7-detection, JS-7-diagnosis: paid once a pregnancy (psn_no + fetts), a refund counting
-- negative; without fetts, the person's paid lines within 210 days (one of each pair lacking fetts)
f7 AS (
  SELECT CASE WHEN det THEN 'JS-7-detection' ELSE 'JS-7-diagnosis' END AS rule, mdtrt_id, feedetl_sn, psn_no,
         fetts, t, d, CASE WHEN cnt < 0 OR amt < 0 THEN -1 ELSE 1 END * abs(cnt) AS u
  FROM nl WHERE i <> 0 AND psn_no IS NOT NULL AND cnt IS NOT NULL AND amt IS NOT NULL),
js7 AS (
  SELECT rule, mdtrt_id, feedetl_sn FROM (
    SELECT *, sum(u) OVER (PARTITION BY rule, psn_no, fetts ORDER BY t, mdtrt_id, feedetl_sn ROWS UNBOUNDED PRECEDING) AS run
    FROM f7 WHERE fetts IS NOT NULL)
  WHERE run > 1.005),
fb AS (  -- the lines of each person with a line lacking fetts (a key of more than 200 lines is not paired)
  SELECT * FROM (
    SELECT *, row_number() OVER (PARTITION BY rule, psn_no ORDER BY t, mdtrt_id, feedetl_sn) AS ord,
           count(*) OVER (PARTITION BY rule, psn_no) AS lines_of_key
    FROM f7 SEMI JOIN (SELECT DISTINCT rule, psn_no FROM f7 WHERE fetts IS NULL) g USING (rule, psn_no))
  WHERE lines_of_key <= 200),
js7fb AS (
  SELECT x.rule, any_value(x.mdtrt_id) AS mdtrt_id, any_value(x.feedetl_sn) AS feedetl_sn
  FROM fb x LEFT JOIN fb m
    ON m.rule = x.rule AND m.psn_no = x.psn_no AND m.ord < x.ord AND m.d >= x.d - INTERVAL 210 DAY
       AND NOT (x.fetts IS NOT NULL AND m.fetts IS NOT NULL)
  WHERE x.u > 0
  GROUP BY x.rule, x.psn_no, x.ord
  HAVING any_value(x.u) + coalesce(sum(m.u), 0) > 1.005 AND (any_value(x.fetts) IS NULL OR count(m.u) > 0))

SELECT rule, mdtrt_id, feedetl_sn FROM (SELECT unnest(hits) AS rule, mdtrt_id, feedetl_sn FROM line_hits) WHERE rule IS NOT NULL
UNION ALL SELECT 'JS-3', * FROM js3
UNION ALL SELECT 'JS-5', * FROM js5
UNION ALL SELECT * FROM jss
UNION ALL SELECT * FROM (SELECT * FROM js7 UNION SELECT * FROM js7fb)          -- a line both counts find, once
-- JS-W: the diagnosis item billed outside 2025-01-01 … 2026-12-31 (the window defaults to the version's dates)
UNION ALL SELECT 'JS-W', mdtrt_id, feedetl_sn FROM l
  WHERE dia AND amt IS NOT NULL AND (d < DATE '2025-01-01' OR d > DATE '2026-12-31')
