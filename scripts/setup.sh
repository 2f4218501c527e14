#!/usr/bin/env bash
# setup.sh: make this machine (Debian 12, as root) ready to build, test and
# demo styx. Idempotent: installs only what is missing, needs no stdin, and
# changes no shell profile or environment file. Prints one line per step;
# on failure prints the failing command's output and exits non-zero.
set -euo pipefail
cd "$(dirname "$0")/.."
STYX_SCRIPT=setup
. scripts/lib.sh

# Debian packages: strongSwan (charon, swanctl, plugins incl. kernel-libipsec
# and openssl), the firewall and network tools the lab and integration tests
# use, BIRD for BGP, QEMU with Debian's kernel and a static busybox for the
# lab's VM tier (kernel ESP, XFRM interfaces, GRE), and git/ca-certificates
# for fetching Go modules.
PACKAGES=(
	strongswan-charon strongswan-swanctl charon-systemd
	libcharon-extra-plugins libcharon-extauth-plugins libstrongswan-extra-plugins libstrongswan-standard-plugins
	iptables nftables tcpdump iproute2 iputils-ping procps bird2
	qemu-system-x86 linux-image-amd64 busybox-static cpio kmod
	ca-certificates git
)

log=$(mktemp)
trap 'rm -f "$log"' EXIT
apt_updated=no

is_installed() {
	[ "$(dpkg-query -W -f='${db:Status-Status}' "$1" 2>/dev/null)" = installed ]
}

apt_install() {
	command -v apt-get >/dev/null || die "apt-get not found: this script expects Debian 12; install by hand: $*"
	[ "$(id -u)" -eq 0 ] || die "missing packages: $*; run this script as root (sudo $0) to install them"
	if [ "$apt_updated" = no ]; then
		step "apt-get update"
		quietly "$log" env DEBIAN_FRONTEND=noninteractive apt-get update </dev/null ||
			die "apt-get update failed (see above)"
		apt_updated=yes
	fi
	step "apt-get install $*"
	quietly "$log" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" </dev/null ||
		die "apt-get install failed (see above)"
}

# 1. packages
command -v dpkg-query >/dev/null || die "dpkg-query not found: this script expects Debian 12"
missing=()
for p in "${PACKAGES[@]}"; do
	is_installed "$p" || missing+=("$p")
done
if [ "${#missing[@]}" -eq 0 ]; then
	step "packages: all ${#PACKAGES[@]} installed"
else
	apt_install "${missing[@]}"
	for p in "${missing[@]}"; do
		is_installed "$p" || die "package $p is still not installed after apt-get install"
	done
fi

# 2. Go
req=$(go_required)
if ! find_go; then
	# Debian 12's golang-go is Go 1.19: too old to build styx and too old to
	# switch toolchains by itself (GOTOOLCHAIN needs Go >= 1.21). Use it only
	# to fetch the Go toolchain go.mod asks for from the Go module proxy, into
	# the module cache, where the go command itself would put it.
	is_installed golang-go || apt_install golang-go
	boot=/usr/bin/go
	[ -x "$boot" ] || die "golang-go is installed but $boot is missing"
	bootv=$(go_version "$boot")
	mod="golang.org/toolchain@v0.0.1-go$req.linux-$(go_arch)"
	if version_ge "$bootv" 1.21; then
		step "go: Debian's go $bootv will switch to go $req (GOTOOLCHAIN=auto)"
	else
		step "go: no go >= $req; fetching $mod from the Go module proxy with Debian's go $bootv"
		tmp=$(mktemp -d)
		printf 'module styxbootstrap\n\ngo 1.19\n' >"$tmp/go.mod"
		quietly "$log" env -C "$tmp" GOFLAGS=-mod=mod GOTOOLCHAIN=local "$boot" mod download "$mod" ||
			{ rm -rf "$tmp"; die "could not fetch $mod (see above)"; }
		rm -rf "$tmp"
		dir=$(go_toolchain_dir "$req")
		[ -d "$dir/bin" ] || die "fetched $mod but $dir/bin is missing"
		# module zips carry no exec bits; the go command sets them the same way
		find "$dir/bin" "$dir/pkg/tool" -type f -exec chmod a+x {} +
	fi
	find_go || die "no usable go found after installing one; need go >= $req"
fi
step "go: $STYX_GO ($STYX_GO_HOW)"
if [ "${GOTOOLCHAIN:-}" = auto ]; then
	# fetch the toolchain now, so that later steps do not stall on it
	quietly "$log" "$STYX_GO" version || die "go could not switch to go $req (see above)"
	step "go: $(tail -n1 "$log")"
fi

# 3. Go modules
quietly "$log" "$STYX_GO" mod download || die "go mod download failed (see above)"
step "go mod download: done"
