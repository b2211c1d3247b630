"""Every finding of a table in words, for whatever a person reads (terminal, HTML, JSON and SARIF
messages, GitHub annotations, JUnit, the national answer's vola_cont, CSV and XLSX exports).

A finding's `message` is the engine's: precise, but it can hold a contract's condition as written
(`chrgitm_lv IN ('02', '2')`). The words come from words.sentence, one per distinct (rule, kind,
expected, actual, message, citation, related): the findings are dictionary-encoded on that key and
only the distinct ones pass through Python, so a table of millions of ceiling findings costs a
few thousand sentences. The precise condition stays in `expected` and in `explain --sql`.
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .words import sentence

KEY = ("contract_id", "contract_version", "rule_id", "kind", "expected", "actual", "message", "citation", "related")
_SEP, _NULL = "\x1f", "\x1e"


def _text(col) -> pa.ChunkedArray | pa.Array:
    if pa.types.is_dictionary(col.type):
        col = pc.cast(col, pa.string())
    return pc.fill_null(col, _NULL)  # a key part never null (binary_join would null the whole key)


def titles(rules, lang: str) -> dict[tuple, str]:
    """{(contract_id, contract_version, rule_id): title in `lang`} of a report's rules."""
    return {(r.contract_id, r.contract_version, r.rule_id): (r.title if lang == "zh" else r.title_en or r.title)
            for r in rules}


def words_of(f: dict, titles_: dict[tuple, str], lang: str = "zh") -> str:
    """One finding (a dict with KEY's fields) in words."""
    return sentence(f, titles_.get((f.get("contract_id"), f.get("contract_version"), f.get("rule_id")), ""), lang)


_MEMO: dict[tuple, tuple] = {}  # (id of the table, lang) -> (table, words): writers of one run share them


def finding_words(table: pa.Table, rules, lang: str = "zh") -> pa.Array:
    """An array aligned with `table`: each finding in words, in `lang` (zh or en); many findings'
    words are kept in a file, as the findings are. Computed once per table and language."""
    memo = _MEMO.get((id(table), lang))
    if memo is not None and memo[0] is table:
        return memo[1]
    words = _words(table, rules, lang)
    if len(_MEMO) >= 4:  # a few tables at most (a report's and the slices terminals show)
        _MEMO.clear()
    _MEMO[(id(table), lang)] = (table, words)
    return words


WORDS_CHUNK = 50_000   # findings keyed at a time: the key text of a chunk is all that is held
MEMO_MAX = 10_000      # sentences remembered across chunks (a ceiling rule's few thousand keys)
WORDS = pa.schema([("words", pa.string())])


def _words(table: pa.Table, rules, lang: str) -> pa.ChunkedArray | pa.Array:
    """Each finding's sentence, a chunk at a time, into a Spool (report/spool.py): a batch of
    frequency findings has a distinct key per finding (its message names the earlier line), and
    holding every key and sentence in Python took art-clinic 10M's 1.18M findings to 1.5 GB."""
    if table.num_rows == 0:
        return pa.array([], pa.string())
    from .spool import Spool, directory_of, slices
    names = titles(rules, lang)
    memo: dict[str, str] = {}          # key text -> sentence, for the keys of recent chunks
    out = Spool(WORDS, directory_of(table))
    try:
        for chunk in slices(table, WORDS_CHUNK):
            key = pc.binary_join_element_wise(*(_text(chunk[c]) for c in KEY), _SEP)
            enc = pc.dictionary_encode(key)
            if isinstance(enc, pa.ChunkedArray):
                enc = enc.combine_chunks()
            local = enc.dictionary.to_pylist()
            fresh = [k for k, text in enumerate(local) if text not in memo]
            if len(memo) + len(fresh) > MEMO_MAX:  # forget the earlier chunks' keys: all of this one's are new
                memo.clear()
                fresh = list(range(len(local)))
            if fresh:
                codes = enc.indices.to_numpy(zero_copy_only=False)
                _, first = np.unique(codes, return_index=True)   # the first row of each local key, in key order
                sample = chunk.select(list(KEY)).take(pa.array(first[fresh])).to_pylist()
                for k, f in zip(fresh, sample):
                    memo[local[k]] = words_of(f, names, lang)
            said = pa.array([memo[text] for text in local], pa.string())
            out.add(pa.record_batch([pc.take(said, enc.indices)], schema=WORDS))
            del key, enc, local, said
        return out.table().column(0)
    except BaseException:
        out.discard()
        raise


def with_words(table: pa.Table, rules, lang: str = "zh") -> pa.Table:
    """`table` with its `message` replaced by the words (the column keeps its name and place)."""
    i = table.schema.get_field_index("message")
    return table.set_column(i, "message", pc.cast(finding_words(table, rules, lang), pa.string()))
