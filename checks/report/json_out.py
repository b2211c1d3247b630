"""The JSON report: a documented, stable shape (see README, "The JSON report")."""
from __future__ import annotations

import json
from pathlib import Path


def write_json(report, path: Path | str) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(report.to_dict(), fh, ensure_ascii=False, indent=1, default=str)
        fh.write("\n")
