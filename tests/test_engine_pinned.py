"""The engine's results pinned: every profile's batch at a small size and every golden batch,
checked with every contract on (the default) and the sample tables, must give exactly the
findings (rule, file, row, severity, amount, message, related line) and the per-rule counts
(status, lines checked, not judged) they gave before the engine was restructured for speed.

The hashes change only when a rule's meaning changes on purpose; then the new value is printed.
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
    "realistic": (124, "329be9284f582f1e", "dfebe5c24faff10f"),
    "findings-heavy": (5244, "b835e33ec6a51a77", "ff25800a517dcb5f"),
    "hospital": (388, "eb1bb19f117a2679", "13a024c02a088acc"),
    "nipt-lab": (892, "913637f978b436ce", "f79285f066ababd8"),
    "art-clinic": (894, "0979deee11a99aaf", "78f773a7f9ed5180"),
    "bureau": (694, "0d8f22308a88a39b", "a2a49d7ee06f93ff"),
}
GOLDEN_PINNED = (62, "aa320010c3fc8525", "6f3dc44985cf15dd")


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

