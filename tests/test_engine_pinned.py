"""The engine's results pinned: every profile's batch at a small size and every golden batch,
checked with every contract on (the default) and the sample tables, must give exactly the
findings (rule, file, row, severity, amount, message, related line) and the per-rule counts
(status, lines checked, not judged) they gave before the engine was restructured for speed.

The hashes change only when a rule's meaning changes on purpose; then the new value is printed.
They were last re-pinned when the third policy pass (new rules, names as printed) met the
restructured engine: the findings and counts of every profile were then compared line by line
with those of the engine before the restructuring, on the same contracts, and were identical.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from checks import check
from checks.sample.generator import generate

ROOT = Path(__file__).resolve().parents[1]
TABLES = {"sunshine_catalogue": str(ROOT / "contracts/jiangsu-consumables/sample_catalogue.csv"),
          "art_institutions": str(ROOT / "contracts/jilin-art/sample_art_institutions.csv")}
GOLDEN = sorted((ROOT / "sample_claims").glob("*.parquet"))

PROFILES = {  # profile: (findings, hash of the findings, hash of the rules' counts)
    "realistic": (138, "9221183ffab993dc", "a2070a1c44dc77b8"),
    "findings-heavy": (5258, "e483ea29499182d8", "f63509ba53fb48fb"),
    "hospital": (498, "0baf9e2bd66b7472", "85337deb20424671"),
    "nipt-lab": (948, "92dfca21d79a7e0c", "1b8f7cff2c4c60f7"),
    "art-clinic": (954, "5aa29241fa6864e4", "18d02f45480163fd"),
    "bureau": (802, "5cb2481dceb26d9c", "3cf0330f9e0e051a"),
}
GOLDEN_PINNED = (69, "b13723c304c0c665", "9109192915fca0d5")


def digest(report, folder: Path) -> tuple[int, str, str]:
    local = lambda s: (s if isinstance(s, str) else json.dumps(s, sort_keys=True, ensure_ascii=False)).replace(  # noqa: E731
        str(folder) + "/", "")  # the related line names its file
    rows = sorted((f.rule_id, f.contract_version, local(f.file), f.row, f.severity, f"{f.amount:.2f}",
                   local(f.message), local(f.related)) for f in report.findings)
    rules = sorted((r.rule_id, r.contract_version, r.status, r.lines_checked, r.lines_not_judged, r.findings,
                    f"{r.amount:.2f}", r.reason or "") for r in report.rules)
    h = lambda xs: hashlib.sha256("\n".join("\t".join(map(str, x)) for x in xs).encode()).hexdigest()[:16]  # noqa: E731
    return len(rows), h(rows), h(rules)


@pytest.mark.parametrize("profile", list(PROFILES))
def test_each_profile_gives_the_findings_and_counts_pinned(profile, tmp_path):
    out = tmp_path / f"{profile}.parquet"
    generate(out, lines=8_000, chunk_lines=4_000, profile=profile)
    got = digest(check([str(out)], tables=TABLES), tmp_path)
    assert got == PROFILES[profile], f"{profile}: {got}"


def test_the_golden_batches_together_give_the_findings_and_counts_pinned():
    got = digest(check([str(p) for p in GOLDEN], tables=TABLES), ROOT / "sample_claims")
    assert got == GOLDEN_PINNED, f"golden: {got}"

