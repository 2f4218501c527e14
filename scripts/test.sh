#!/usr/bin/env bash
# test.sh: the whole test suite, as CI runs it (.ci/run).
#
#   setup (scripts/setup.sh), gofmt, go vet, go test ./... (the lab tests
#   last, on their own), the lab's VM tier for S2 and S5, then a short
#   fuzz run of every Fuzz* target (FUZZTIME each, default 15s).
#
# Run as root so that integration tests run instead of skipping. Ends with
# the line "N passed, N failed" (one per step) and exits non-zero if any
# step failed.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
STYX_SCRIPT="test"
. scripts/lib.sh

FUZZTIME=${FUZZTIME:-15s}
passed=0
failed=0
failures=()
start=$SECONDS

# run NAME CMD...: one step; its output goes straight through.
run() {
	local name=$1 t0=$SECONDS rc=0
	shift
	printf '\n=== %s\n' "$name"
	"$@" || rc=$?
	if [ "$rc" -eq 0 ]; then
		passed=$((passed + 1))
		printf -- '--- ok   %s (%ds)\n' "$name" $((SECONDS - t0))
	else
		failed=$((failed + 1))
		failures+=("$name")
		printf -- '--- FAIL %s (%ds, exit %d)\n' "$name" $((SECONDS - t0)) "$rc"
	fi
	return 0
}

summary() {
	printf '\n'
	for f in "${failures[@]}"; do
		printf 'FAILED: %s\n' "$f"
	done
	printf 'test.sh took %ds\n' $((SECONDS - start))
	printf '%d passed, %d failed\n' "$passed" "$failed"
	[ "$failed" -eq 0 ]
}

gofmt_check() {
	local gofmt files bad
	gofmt="$("$STYX_GO" env GOROOT)/bin/gofmt"
	[ -x "$gofmt" ] || { echo "gofmt not found at $gofmt" >&2; return 1; }
	mapfile -t files < <(find . -name '*.go' -not -path './.git/*' -not -path '*/testdata/*' -not -path './bin/*' | sort)
	bad=$("$gofmt" -l "${files[@]}") || return 1
	if [ -n "$bad" ]; then
		echo "these files are not gofmt-ed (run: gofmt -w FILE):"
		# shellcheck disable=SC2001
		sed 's/^/  /' <<<"$bad"
		return 1
	fi
	echo "${#files[@]} files formatted"
}

root_note() {
	if [ "$(id -u)" -ne 0 ]; then
		echo "note: not root: tests that need root skip (they say why with go test -v)"
	fi
}

# vm_session FILE GATEWAY: the VM tier as a user drives it: lab up --vm
# keeps the VM up, lab test, exec and status reach it, lab down removes
# it; then nothing of it may be left (qemu, its control directory).
vm_session() {
	local f=$1 gw=$2 rc=0
	if ! ./bin/styx lab up --vm "$f"; then
		./bin/styx lab down "$f"
		return 1
	fi
	./bin/styx lab test "$f" || rc=1
	./bin/styx lab exec "$f" "$gw" -- styx status "$f" --gateway "$gw" || rc=1
	./bin/styx lab status "$f" || rc=1
	./bin/styx lab down "$f" || rc=1
	# (a powered-off qemu may linger as a zombie until init reaps it: -f
	# matches only live processes, whose command line is readable)
	if pgrep -f '^qemu-system-x86_64 ' >/dev/null; then
		echo "a qemu is still running after lab down"
		rc=1
	fi
	if [ -e /var/cache/styx/vm ]; then
		echo "left behind: $(ls -A /var/cache/styx/vm)"
		rc=1
	fi
	return "$rc"
}

# fuzz_targets: "DIR NAME" for each func FuzzX(f *testing.F) in *_test.go.
fuzz_targets() {
	grep -rEo --include='*_test.go' --exclude-dir=testdata --exclude-dir=.git \
		'^func Fuzz[A-Za-z0-9_]*\(' . |
		sed -E 's#^(.*)/[^/]*:func (Fuzz[A-Za-z0-9_]*)\($#\1 \2#' | sort -u
}

run setup ./scripts/setup.sh
if [ "$failed" -ne 0 ]; then
	echo "setup failed: not running the tests" >&2
	summary
	exit 1
fi
find_go || die "setup succeeded but no usable go was found"

run gofmt gofmt_check
run "go vet" "$STYX_GO" vet ./...
root_note
# the lab tests run real traffic with timing expectations (zero loss across
# a rekey): they get the machine to themselves, after the other packages
mapfile -t pkgs < <("$STYX_GO" list ./... | grep -v '/internal/lab$')
run "go test" "$STYX_GO" test -count=1 "${pkgs[@]}"
run "lab tests" "$STYX_GO" test -count=1 -p 1 ./internal/lab
# the VM tier on Debian's kernel: S2 (kernel ESP, XFRM interfaces, BIRD,
# ECMP failover), S5 (GRE over ESP with NAT-T, multicast), seed 002's VTI
# variant and seed 001's road-warrior routes announced by BGP; the VM sees
# the host's root read-only, but not /tmp
run "build bin/styx" "$STYX_GO" build -o bin/styx ./cmd/styx
run "vm tier: S2" ./bin/styx lab up --vm --test --down examples/s2-route-based-bgp.yaml
run "vm tier: S5 (session)" vm_session examples/s5-cloud-vm-gre.yaml vm
run "vm tier: VTI" ./bin/styx lab up --vm --test --down internal/lab/testdata/vti-pair.yaml
run "vm tier: RW export" ./bin/styx lab up --vm --test --down internal/lab/testdata/rw-export.yaml

mapfile -t targets < <(fuzz_targets)
if [ "${#targets[@]}" -eq 0 ]; then
	printf '\nno Fuzz* targets found\n'
fi
for t in "${targets[@]}"; do
	read -r dir name <<<"$t"
	run "fuzz $name ($dir, $FUZZTIME)" "$STYX_GO" test -run '^$' -fuzz "^$name\$" -fuzztime "$FUZZTIME" "$dir"
done

summary
