# shellcheck shell=bash
# Helpers shared by scripts/*.sh. Source it from the repository root:
#   . scripts/lib.sh
# It defines functions only; it changes nothing by being sourced.

# step MSG: one progress line.
step() { printf '%s: %s\n' "${STYX_SCRIPT:-styx}" "$*"; }

# die MSG: an error line on stderr, then exit 1.
die() {
	printf '%s: error: %s\n' "${STYX_SCRIPT:-styx}" "$*" >&2
	exit 1
}

# quietly LOG CMD...: run CMD with its output sent to LOG; on failure print
# the log on stderr and return CMD's status.
quietly() {
	local log=$1 rc=0
	shift
	"$@" >"$log" 2>&1 || rc=$?
	if [ "$rc" -ne 0 ]; then
		printf '%s: command failed (exit %d): %s\n' "${STYX_SCRIPT:-styx}" "$rc" "$*" >&2
		sed 's/^/    /' "$log" >&2
	fi
	return "$rc"
}

# go_required: the Go version go.mod asks for (its toolchain line if that is
# newer than its go line), e.g. 1.26.8.
go_required() {
	local v t
	v=$(sed -n 's/^go \([0-9][0-9.a-z]*\)[[:space:]]*$/\1/p' go.mod | head -n1)
	t=$(sed -n 's/^toolchain go\([0-9][0-9.a-z]*\)[[:space:]]*$/\1/p' go.mod | head -n1)
	[ -n "$v" ] || die "go.mod has no go line"
	if [ -n "$t" ] && version_ge "$t" "$v"; then
		v=$t
	fi
	printf '%s\n' "$v"
}

# version_ge A B: A >= B for Go versions such as 1.26.8 or 1.21.
version_ge() {
	[ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | head -n1)" = "$2" ]
}

# go_version BIN: the version of the Go at BIN without switching toolchains
# (e.g. 1.26.8), or nothing if BIN does not run.
go_version() {
	local out
	out=$(cd / && GOTOOLCHAIN=local GOFLAGS="" "$1" version 2>/dev/null) || return 0
	out=${out#go version go}
	printf '%s\n' "${out%% *}"
}

# go_arch: the Go name of this machine's architecture.
go_arch() {
	case "$(uname -m)" in
	x86_64) echo amd64 ;;
	aarch64 | arm64) echo arm64 ;;
	i?86) echo 386 ;;
	*) die "unsupported architecture $(uname -m)" ;;
	esac
}

# go_toolchain_dir VERSION: where the go command keeps the toolchain of that
# version when it fetches it from the module proxy (GOTOOLCHAIN=auto).
go_toolchain_dir() {
	local cache=${GOMODCACHE:-${GOPATH:-$HOME/go}/pkg/mod}
	cache=${cache%%:*}
	printf '%s/golang.org/toolchain@v0.0.1-go%s.linux-%s\n' "$cache" "$1" "$(go_arch)"
}

# shellcheck disable=SC2034 # STYX_GO and STYX_GO_HOW are for the caller
# find_go: set STYX_GO to a go command that builds this module, and
# STYX_GO_HOW to how it was found. A go older than go.mod asks for but new
# enough to switch toolchains (>= 1.21) is used with GOTOOLCHAIN=auto,
# exported for this process and its children only. Returns 1 if none fits.
find_go() {
	local req c v seen=""
	req=$(go_required)
	STYX_GO="" STYX_GO_HOW=""
	for c in "$(command -v go 2>/dev/null || true)" /usr/local/go/bin/go "$(go_toolchain_dir "$req")/bin/go" /usr/bin/go; do
		if [ -z "$c" ] || [ ! -x "$c" ]; then
			continue
		fi
		case " $seen " in *" $c "*) continue ;; esac
		seen="$seen $c"
		v=$(go_version "$c")
		[ -n "$v" ] || continue
		if version_ge "$v" "$req"; then
			STYX_GO=$c STYX_GO_HOW="go $v"
			return 0
		fi
	done
	# none is new enough: one that can switch toolchains fetches the
	# required one from the module proxy
	for c in $seen; do
		v=$(go_version "$c")
		if version_ge "$v" 1.21; then
			export GOTOOLCHAIN=auto
			STYX_GO=$c STYX_GO_HOW="go $v with GOTOOLCHAIN=auto (switches to go $req)"
			return 0
		fi
	done
	return 1
}
