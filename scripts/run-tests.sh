#!/usr/bin/env bash
# Runs the test suite; pytest's "no tests collected" (exit 5) counts as a failure.
set -uo pipefail
BIN=${1:-.venv/bin}
mkdir -p test-artifacts
"$BIN/python" -m pytest -q -p no:cacheprovider --durations=15 "${@:2}"
rc=$?
if [ $rc -eq 5 ]; then echo "no tests ran" >&2; exit 1; fi
exit $rc
