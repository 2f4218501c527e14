#!/usr/bin/env bash
# demo.sh: show what styx does with examples/s1-iot-cloud.yaml.
#
#   setup -> build bin/styx -> styx check -> styx render (once it exists)
#
# Run as root on Debian 12: sudo ./scripts/demo.sh [TOPOLOGY]  (default: the S1 example)
# Each step is a function; main() lists them in order.
set -euo pipefail
cd "$(dirname "$0")/.."
STYX_SCRIPT=demo
. scripts/lib.sh

TOPOLOGY=${1:-examples/s1-iot-cloud.yaml}
STYX=bin/styx
PREVIEW_LINES=${PREVIEW_LINES:-8}

tmpdir=$(mktemp -d)
trap 'rm -rf "$tmpdir"' EXIT
set -E
trap 'rc=$?; printf "demo: error: \"%s\" failed (exit %d)\n" "$BASH_COMMAND" "$rc" >&2' ERR

banner() { printf '\n==> %s\n' "$*"; }

# has_command NAME: bin/styx knows the subcommand NAME.
has_command() { "$STYX" help "$1" >/dev/null 2>&1; }

do_setup() {
	banner "setup"
	./scripts/setup.sh
	find_go || die "setup succeeded but no usable go was found"
}

do_build() {
	banner "build $STYX"
	local version
	version=$(git describe --always --dirty 2>/dev/null || echo dev)
	mkdir -p bin
	"$STYX_GO" build -ldflags "-X github.com/styx-vpn/styx/internal/cli.version=$version" -o "$STYX" ./cmd/styx
	"$STYX" version
}

do_check() {
	banner "$STYX check $TOPOLOGY"
	"$STYX" check "$TOPOLOGY"
}

do_render() {
	if ! has_command render; then
		banner "render: not available yet in this styx (skipped)"
		return 0
	fi
	banner "$STYX render $TOPOLOGY --all --out $tmpdir"
	"$STYX" render "$TOPOLOGY" --all --out "$tmpdir"
	local f rel
	while IFS= read -r f; do
		rel=${f#"$tmpdir"/}
		# rendered secret files are 0600: never print them
		if [ -z "$(find "$f" -perm -g=r)" ] || [[ $rel == *secret* ]]; then
			printf '\n--- %s (secret, not shown)\n' "$rel"
			continue
		fi
		printf '\n--- %s (%d lines)\n' "$rel" "$(wc -l <"$f")"
		head -n "$PREVIEW_LINES" "$f"
	done < <(find "$tmpdir" -type f | sort)
}

# do_lab will bring the topology up in network namespaces and test it:
#   has_command lab && "$STYX" lab up "$TOPOLOGY" && "$STYX" lab test "$TOPOLOGY"

main() {
	do_setup
	do_build
	do_check
	do_render
	banner "done"
}

main
