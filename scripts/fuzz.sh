#!/usr/bin/env bash
# make fuzz: run every fuzz target in the module, one after the other, each
# for FUZZTIME (default 30s). Targets are found, not listed, so a new one is
# fuzzed without touching this file.
set -euo pipefail
cd "$(dirname "$0")/.."
GO=${GO:-go}
FUZZTIME=${FUZZTIME:-30s}
n=0
for pkg in $($GO list ./...); do
	for target in $($GO test -list '^Fuzz' "$pkg" | grep '^Fuzz' || true); do
		echo "== $pkg $target ($FUZZTIME)"
		$GO test -run '^$' -fuzz "^${target}\$" -fuzztime "$FUZZTIME" "$pkg"
		n=$((n + 1))
	done
done
if [ "$n" = 0 ]; then
	echo "fuzz: no fuzz targets found" >&2
	exit 1
fi
echo "fuzz: $n targets, $FUZZTIME each"
