"""Words, never SQL, wherever a person reads: every output of the golden batches is scanned.

The engine keeps a rule's condition as the contract writes it (`chrgitm_lv IN ('02', '2')`) in
`expected`; what people read (the terminal, GitHub annotations, JSON and SARIF messages, JUnit, the
national answer's vola_cont, the HTML report, the CSV and XLSX exports) says it in words, in the
report's language. The condition itself stays available in `explain --sql`.
"""
from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from html.parser import HTMLParser
from pathlib import Path

import openpyxl
import pytest

from checks.claims.fields import COLUMNS
from checks.expr import FUNCTIONS
from conftest import ROOT

SAMPLES = ROOT / "sample_claims"
TABLES = ["--table", f"sunshine_catalogue={ROOT / 'contracts/jiangsu-consumables/sample_catalogue.csv'}",
          "--table", f"art_institutions={ROOT / 'contracts/jilin-art/sample_art_institutions.csv'}"]
KEYS = {"mdtrt_id", "feedetl_sn"}  # a finding's address (mdtrt_id=… feedetl_sn=…), not a condition
_COLS = "|".join(sorted((c for c in COLUMNS if c not in KEYS), key=len, reverse=True))
SQL = re.compile(
    r"\b(?:SELECT|WHERE|CASE WHEN|IS NOT NULL|IS NULL|NOT IN|COALESCE)\b"
    rf"|\b(?:{_COLS})\s*(?:=|<>|!=|>=|<=|<|>|∈|\bIN\s*\(|\bLIKE\b|\bBETWEEN\b)"
    rf"|\b(?:{'|'.join(FUNCTIONS)})\s*\(")


def sql_in(texts) -> list[str]:
    return [t for t in texts if t and SQL.search(t)]


def test_the_pattern_finds_a_condition_as_contracts_write_it():
    assert sql_in(["不符合支付条件 chrgitm_lv IN ('02', '2')", "age_years(brdy, fee_ocur_time) >= 35",
                   "institution=南方医院赣州医院, hilist_code=QYLS00152 不在允许范围内"]) == [
        "不符合支付条件 chrgitm_lv IN ('02', '2')", "age_years(brdy, fee_ocur_time) >= 35",
        "institution=南方医院赣州医院, hilist_code=QYLS00152 不在允许范围内"]
    assert sql_in(["不符合「辅助生殖项目按乙类支付」：收费项目等级 01（甲类）", "mdtrt_id=M1 feedetl_sn=1"]) == []


class _Visible(HTMLParser):
    """The text of an HTML page a browser shows (not scripts or styles)."""
    def __init__(self):
        super().__init__()
        self.skip, self.text, self.data, self.in_data = 0, [], "", False

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "style"):
            self.skip += 1
            self.in_data = dict(attrs).get("id") == "data"

    def handle_endtag(self, tag):
        if tag in ("script", "style"):
            self.skip -= 1
            self.in_data = False

    def handle_data(self, data):
        if not self.skip:
            self.text.append(data)
        elif self.in_data:
            self.data += data


@pytest.fixture(scope="module", params=["zh", "en"])
def outputs(request, tmp_path_factory):
    d = tmp_path_factory.mktemp(f"out-{request.param}")
    exe = Path(sys.executable).parent / "claimcheck"
    p = subprocess.run([str(exe), "check", str(SAMPLES), *TABLES, "--lang", request.param, "--show", "1000",
                        "--github", "--json", d / "r.json", "--sarif", d / "r.sarif", "--junit", d / "r.xml",
                        "--nhsa-json", d / "n.json", "--html", d / "r.html", "--findings", d / "f.csv"],
                       capture_output=True, text=True, timeout=600, cwd=d)
    assert p.returncode == 1, p.stderr
    p2 = subprocess.run([str(exe), "report", d / "r.json", "--findings", d / "f.xlsx", "--lang", request.param],
                        capture_output=True, text=True, timeout=600, cwd=d)
    assert p2.returncode == 0, p2.stderr
    return d, p.stdout


def test_the_terminal_and_the_annotations(outputs):
    _, stdout = outputs
    finding_lines = [ln for ln in stdout.splitlines() if ln.startswith(("  ", "::"))]
    assert len(finding_lines) > 60
    assert sql_in(finding_lines) == []


def test_json_messages_and_the_national_vola_cont(outputs):
    d, _ = outputs
    r = json.loads((d / "r.json").read_text(encoding="utf-8"))
    messages = [f["message"] for f in r["violations"] + r["waived"]]
    assert len(messages) == r["summary"]["findings"] > 60
    assert sql_in(messages) == []
    assert any("IN (" in (f["expected"] or "") for f in r["violations"]), "the precise condition stays in expected"
    n = json.loads((d / "n.json").read_text(encoding="utf-8"))["output"]["result"]
    assert n and sql_in(x["vola_cont"] for x in n) == []


def test_sarif_and_junit(outputs):
    d, _ = outputs
    s = json.loads((d / "r.sarif").read_text(encoding="utf-8"))
    results = s["runs"][0]["results"]
    assert results and sql_in(x["message"]["text"] for x in results) == []
    root = ET.parse(d / "r.xml").getroot()
    texts = [el.text for el in root.iter()] + [v for el in root.iter() for v in el.attrib.values()]
    assert sql_in(texts) == []


def test_html_csv_and_xlsx(outputs):
    d, _ = outputs
    page = _Visible()
    page.feed((d / "r.html").read_text(encoding="utf-8"))
    assert sql_in(page.text) == []
    data = json.loads(page.data)
    words = [row[data["fields"].index("words")] for row in data["rows"]]
    assert len(words) > 60 and sql_in(words) == []
    with open(d / "f.csv", encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    assert len(rows) > 60 and sql_in(v for row in rows for v in row) == []
    book = openpyxl.load_workbook(d / "f.xlsx", read_only=True)
    cells = [str(v) for ws in book.worksheets for row in ws.iter_rows(values_only=True) for v in row if v]
    assert sql_in(cells) == []
