#!/usr/bin/env bash
# Check the Parquet claim files a change added or modified, and write the CI reports.
#
#   ci/claimcheck-changed.sh BASE_REF [OUT_DIR] [-- extra claimcheck options]
#
# BASE_REF: what the change is compared with (e.g. origin/main). OUT_DIR (default
# claimcheck-reports) receives report.json, junit.xml, results.sarif and report.html.
# Exit code: claimcheck's (0 clean, 1 findings at or above --fail-on, 2 bad input); 0 when no
# claim file changed. CLAIMCHECK (default: claimcheck) names the command to run.
set -euo pipefail
base=${1:?usage: claimcheck-changed.sh BASE_REF [OUT_DIR] [-- claimcheck options]}
shift
out=claimcheck-reports
if [ $# -gt 0 ] && [ "$1" != "--" ]; then out=$1; shift; fi
[ "${1:-}" = "--" ] && shift
mkdir -p "$out"
mapfile -t files < <(git diff --name-only --diff-filter=AM "$base" -- '*.parquet')
if [ ${#files[@]} -eq 0 ]; then
  echo "claimcheck: no claim file changed since $base"
  exit 0
fi
echo "claimcheck: checking ${#files[@]} changed claim file(s)"
set +e
${CLAIMCHECK:-claimcheck} check "${files[@]}" --json "$out/report.json" --junit "$out/junit.xml" \
  --sarif "$out/results.sarif" --html "$out/report.html" "$@"
code=$?
set -e
exit $code
