"""Property-based: any file name, any column name, any bytes in a Parquet file's metadata, any
YAML as a column map. Each is read as exactly what it is or refused naming the file; never an
internal error, never a neighbour file read instead, never a raw control or bidi character
printed. Examples are few (FUZZ_EXAMPLES raises them) so the suite stays fast.
"""
from __future__ import annotations

import os

import pyarrow as pa
import pyarrow.parquet as pq
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import line, table
from test_hostile_fuzz import NIPT, run, sound

SETTINGS = settings(max_examples=int(os.environ.get("FUZZ_EXAMPLES", "8")), deadline=None,
                    suppress_health_check=list(HealthCheck))
RAW = ("\x1b", "\x07", "\x00", "\u202e", "\u2066", "\u200f")

# names as other systems and careless users make them: glob and shell characters, quotes, CJK,
# full-width and bidi characters, control characters, key=value, spaces
NAME_CHARS = st.sampled_from(list("[]*?{}!,=-_. '\"$%&;()~#@^+") + ["\x1b", "\x07", "\t", "\u202e", "\u2066",
                                                                     "\u3000", "（", "）", "理", "赔", "批", "é"])
NAMES = st.text(st.one_of(NAME_CHARS, st.characters(min_codepoint=0x21, max_codepoint=0x7e, exclude_characters="/")),
                min_size=1, max_size=40)


def fits(name: str) -> bool:
    return len(name.encode("utf-8")) <= 240 and name not in (".", "..")


@SETTINGS
@given(NAMES.filter(fits))
def test_any_file_name_is_read_as_that_file_and_shown_escaped(tmp_path_factory, stem):
    d = tmp_path_factory.mktemp("names")
    path = d / f"{stem}.parquet"
    pq.write_table(table([line(1, price=520.0)]), path)  # one violation
    for decoy in ("x.parquet", "a.parquet", "claims1.parquet", f"{stem.replace('[', '').replace(']', '')}1.parquet"):
        if not (d / decoy).exists():
            pq.write_table(table([line(7, price=600.0), line(8, price=600.0)]), d / decoy)
    code, out, exc = run("check", path, "--contracts", NIPT)
    sound(code, out, exc, "parquet")
    if "\\" in stem and any(c in stem for c in "*?["):  # DuckDB takes such a path for a pattern, always
        assert code == 2 and "holds both a backslash and one of * ? [" in out, out
    else:
        assert code == 1 and "1 lines in 1 file(s)" in out, out
    assert not any(c in out for c in RAW), ascii(out)


@SETTINGS
@given(st.text(min_size=1, max_size=30))
def test_any_extra_column_name_is_carried_or_refused_naming_it(tmp_path_factory, name):
    d = tmp_path_factory.mktemp("columns")
    t = table([line(1, price=520.0)])
    t = t.append_column(pa.field(name, pa.int64()), pa.array([1], pa.int64()))
    path = d / "claims.parquet"
    pq.write_table(t, path)
    code, out, exc = run("check", path, "--contracts", NIPT)
    sound(code, out, exc, "claims.parquet")
    assert not any(c in out for c in RAW), ascii(out)
    taken = {c.lower() for c in t.column_names[:-1]} | {"filename", "file_row_number", "file_index"}
    assert code == (2 if name.lower() in taken else 1), out  # refused only for a national name twice or a reserved one


@SETTINGS
@given(st.dictionaries(st.binary(max_size=40), st.binary(max_size=200), max_size=4))
def test_any_bytes_in_the_parquet_metadata_change_nothing(tmp_path_factory, metadata):
    d = tmp_path_factory.mktemp("metadata")
    t = table([line(1, price=520.0), line(2)])
    path = d / "claims.parquet"
    pq.write_table(t.replace_schema_metadata(metadata), path)
    code, out, exc = run("check", path, "--contracts", NIPT)
    sound(code, out, exc, "claims.parquet")
    assert code == 1 and "1 lines" not in out and "2 lines in 1 file(s)" in out, out


YAML_SCALAR = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=20))
YAML_DATA = st.recursive(YAML_SCALAR, lambda kids: st.one_of(st.lists(kids, max_size=3),
                                                              st.dictionaries(st.text(max_size=15), kids, max_size=3)),
                         max_leaves=8)
MAP_KEYS = st.sampled_from(["mdtrt_id", "fixmedins_name", "hilist_code", "pric", "filename", "nope", "brdy"])


@SETTINGS
@given(st.one_of(YAML_DATA, st.dictionaries(MAP_KEYS, st.one_of(YAML_SCALAR, st.lists(YAML_SCALAR, max_size=3)),
                                             max_size=3)))
def test_any_yaml_as_a_column_map_is_used_or_refused_at_its_location(tmp_path_factory, data):
    d = tmp_path_factory.mktemp("map")
    claims = d / "claims.parquet"
    pq.write_table(table([line(1, price=520.0)]), claims)
    m = d / "map.yaml"
    m.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    before = (claims.read_bytes(), m.read_bytes())
    code, out, exc = run("check", claims, "--contracts", NIPT, "--columns", m)
    sound(code, out, exc, "map.yaml", "--columns")
    assert (claims.read_bytes(), m.read_bytes()) == before
