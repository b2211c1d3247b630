"""The CI kit: the changed-files script in a real git repository, the pre-commit hook's command as
pre-commit runs it, and the workflow and template naming the reports they publish."""
from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from conftest import ROOT, line, table

BIN = str(Path(sys.executable).parent)


def git(repo, *args):
    subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True,
                   env={**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
                        "GIT_COMMITTER_EMAIL": "t@t"})


def test_changed_files_script_checks_only_what_changed(tmp_path):
    import pyarrow.parquet as pq

    repo = tmp_path / "claims"
    (repo / "ci").mkdir(parents=True)
    shutil.copy(ROOT / "ci/claimcheck-changed.sh", repo / "ci")
    pq.write_table(table([line(1, price=520.0)]), repo / "old.parquet")  # already on main, has a finding
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "base")
    env = {**os.environ, "PATH": BIN + os.pathsep + os.environ["PATH"]}
    run = lambda: subprocess.run(["bash", "ci/claimcheck-changed.sh", "main", "out"], cwd=repo, env=env,
                                 capture_output=True, text=True)
    p = run()
    assert p.returncode == 0 and "no claim file changed" in p.stdout
    git(repo, "checkout", "-qb", "change")
    pq.write_table(table([line(2)]), repo / "clean.parquet")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "clean batch")
    p = run()
    assert p.returncode == 0, p.stdout + p.stderr
    assert "checking 1 changed claim file(s)" in p.stdout and "old.parquet" not in p.stdout
    assert {f.name for f in (repo / "out").iterdir()} == {"report.json", "junit.xml", "results.sarif", "report.html"}
    pq.write_table(table([line(3, price=530.0)]), repo / "bad.parquet")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "batch with a finding")
    p = run()
    assert p.returncode == 1 and "JS-1-price" in p.stdout


def test_pre_commit_hook_runs_as_pre_commit_would(write):
    (hook,) = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    assert hook["id"] == "claimcheck" and hook["language"] == "python" and hook["pass_filenames"]
    import re
    good, bad = write([line(1)], "good.parquet"), write([line(2, price=520.0)], "bad.parquet")
    assert re.search(hook["files"], good.name) and not re.search(hook["files"], "notes.csv")
    cmd = [str(Path(BIN) / shlex.split(hook["entry"])[0]), *shlex.split(hook["entry"])[1:], *hook["args"]]
    assert subprocess.run([*cmd, str(good)], capture_output=True).returncode == 0
    assert subprocess.run([*cmd, str(good), str(bad)], capture_output=True).returncode == 1


def test_workflow_and_template_publish_the_reports():
    gh = yaml.safe_load((ROOT / "ci/github/claimcheck.yml").read_text(encoding="utf-8"))
    steps = gh["jobs"]["claims"]["steps"]
    runs = " ".join(s.get("run", "") for s in steps)
    assert "ci/claimcheck-changed.sh" in runs and "$CLAIMCHECK_SPEC" in runs
    uses = {s.get("uses", "").split("@")[0]: s for s in steps}
    assert uses["github/codeql-action/upload-sarif"]["with"]["sarif_file"] == "claimcheck-reports/results.sarif"
    assert gh["permissions"]["security-events"] == "write"
    gl = yaml.safe_load((ROOT / "ci/gitlab/claimcheck.gitlab-ci.yml").read_text(encoding="utf-8"))["claimcheck"]
    assert any("ci/claimcheck-changed.sh" in line for line in gl["script"])
    assert gl["artifacts"]["reports"]["junit"] == "claimcheck-reports/junit.xml"
