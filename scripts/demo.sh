#!/usr/bin/env bash
# demo.sh: show what styx does with examples/s1-iot-cloud.yaml.
#
#   setup -> build bin/styx -> styx check -> styx render -> styx lab up
#   -> a client requests the cloud service once a second -> styx lab test
#   -> styx lab down (KEEP=1 leaves the lab running)
#
# Run as root on Debian 12: ./scripts/demo.sh [TOPOLOGY]  (default: the S1 example)
# Each step is a function; main() lists them in order.
set -euo pipefail
cd "$(dirname "$0")/.."
STYX_SCRIPT=demo
. scripts/lib.sh

TOPOLOGY=${1:-examples/s1-iot-cloud.yaml}
STYX=bin/styx
PREVIEW_LINES=${PREVIEW_LINES:-60}
# for the S1 example: which gateway to show, and the client that requests the service
GATEWAY=${GATEWAY:-cloud}
CLIENT=${CLIENT:-client-a}
SERVICE=${SERVICE:-172.30.30.30:8080/tcp}

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
	banner "$STYX render $TOPOLOGY --gateway $GATEWAY --only swanctl,nft  (secrets redacted)"
	"$STYX" render "$TOPOLOGY" --gateway "$GATEWAY" --only swanctl,nft | head -n "$PREVIEW_LINES"
	echo "... (full files: $STYX render $TOPOLOGY --gateway $GATEWAY)"
}

lab_up=no
cleanup_lab() {
	if [ "$lab_up" = yes ] && [ "${KEEP:-0}" != 1 ]; then
		"$STYX" lab down "$TOPOLOGY" || true
	fi
}

do_lab() {
	banner "$STYX lab up $TOPOLOGY   (namespaces, one real charon per gateway, styx apply)"
	trap 'cleanup_lab; rm -rf "$tmpdir"' EXIT
	lab_up=yes
	"$STYX" lab up "$TOPOLOGY"
	if [ -n "$CLIENT" ]; then
		banner "$CLIENT requests $SERVICE once a second through the tunnel"
		"$STYX" lab exec "$TOPOLOGY" "$CLIENT" -- "$PWD/$STYX" lab-agent request --to "$SERVICE" --count 5 --every 1s
	fi
	banner "$STYX lab test $TOPOLOGY"
	"$STYX" lab test "$TOPOLOGY"
	if [ "${KEEP:-0}" = 1 ]; then
		banner "the lab stays up (KEEP=1); remove it with: $STYX lab down $TOPOLOGY"
		lab_up=no
	else
		banner "$STYX lab down $TOPOLOGY"
		"$STYX" lab down "$TOPOLOGY"
		lab_up=no
	fi
}

main() {
	do_setup
	do_build
	do_check
	do_render
	do_lab
	banner "done"
}

main
