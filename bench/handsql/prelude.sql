-- Macros every contract's hand-written query uses (bench/handwritten.py runs this first).
-- Values as claimcheck reads them (checks/claims/normal.py,
-- checks/claims/money.py). code: a code (surrounding whitespace of any kind gone, blank = NULL);
-- ident: an identifier (surrounding spaces gone, blank = NULL); name: an institution or item name as the
-- contract's lists are compared with it (full-width U+FF01–U+FF5E folded to ASCII, whitespace and
-- punctuation dropped, every bracket style made ASCII ( ), upper case).
CREATE MACRO code(x) AS nullif(trim(CAST(x AS VARCHAR), ' ' || chr(9) || chr(10) || chr(11) || chr(12) || chr(13) || chr(160) || chr(12288)), '');
CREATE MACRO ident(x) AS nullif(trim(CAST(x AS VARCHAR)), '');
CREATE MACRO name(x) AS upper(translate(regexp_replace(
  translate(CAST(x AS VARCHAR),
    '！＂＃＄％＆＇（）＊＋，－．／０１２３４５６７８９：；＜＝＞？＠ＡＢＣＤＥＦＧＨＩＪＫＬＭＮＯＰＱＲＳＴＵＶＷＸＹＺ［＼］＾＿｀ａｂｃｄｅｆｇｈｉｊｋｌｍｎｏｐｑｒｓｔｕｖｗｘｙｚ｛｜｝～',
    '!"#$%&''()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\]^_`abcdefghijklmnopqrstuvwxyz{|}~'),
  '[\x{09}-\x{0d} !"#''*+,\-./:;<=>?\\^`|~\x{a0}\x{b7}\x{2002}\x{2003}\x{2009}\x{200b}\x{2013}-\x{2015}\x{2018}\x{2019}\x{201c}\x{201d}\x{2022}\x{2026}\x{3000}-\x{3002}\x{3008}-\x{300f}\x{301c}\x{30fb}\x{feff}]', '', 'g'),
  '【[〔〖】]〕〗', '(((())))'));
-- the money of a line (checks/claims/money.py): the convention its parts add up under, and the
-- in-policy amount T − F − O (NULL where the parts add up under neither); without F or O, the
-- file's convention decides between I and I + P
CREATE MACRO conv(t, f, o, p, i) AS CASE
  WHEN t IS NULL OR f IS NULL OR o IS NULL OR p IS NULL OR i IS NULL THEN NULL
  WHEN abs(f + o + p + i - t) <= 0.02 AND abs(f + o + i - t) <= 0.02 THEN 'either'
  WHEN abs(f + o + p + i - t) <= 0.02 THEN 'excl' WHEN abs(f + o + i - t) <= 0.02 THEN 'incl' ELSE 'neither' END;
CREATE MACRO inpolicy(t, f, o, p, i, file_conv) AS CASE
  WHEN t IS NOT NULL AND f IS NOT NULL AND o IS NOT NULL THEN
    CASE WHEN coalesce(conv(t, f, o, p, i) = 'neither', FALSE) THEN NULL ELSE round(t - f - o, 2) END
  WHEN i IS NOT NULL AND file_conv = 'incl' THEN i
  WHEN i IS NOT NULL AND p IS NOT NULL AND abs(p) <= 0.02 THEN i
  WHEN i IS NOT NULL AND p IS NOT NULL AND file_conv = 'excl' THEN round(i + p, 2) END;
