#!/usr/bin/env bash
# Prints one plain "N passed, N failed" line from a `swift test` log (Swift Testing output),
# and fails when any test failed or none ran.
set -euo pipefail
log=${1:?usage: test-summary.sh LOG}
passed=$(grep -cE '^✔ Test .* passed' "$log" || true)
failed=$(grep -cE '^✘ Test .* failed' "$log" || true)
echo "$passed passed, $failed failed"
# A crash mid-run leaves no closing "Test run with N tests ... passed" line.
grep -qE '^✔ Test run with [0-9]+ tests? .*passed' "$log" || { echo "the test run did not finish cleanly"; exit 1; }
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
