package render

import (
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"

	"github.com/styx-vpn/styx/internal/plan"
	"github.com/styx-vpn/styx/internal/render/bird"
	"github.com/styx-vpn/styx/internal/render/nft"
	"github.com/styx-vpn/styx/internal/render/swanctl"
	"github.com/styx-vpn/styx/internal/topology"
)

// File is one rendered artifact.
type File struct {
	Path   string      // relative to the gateway's output directory
	Mode   fs.FileMode // 0600 for secrets, 0644 otherwise
	Data   []byte
	Secret bool
}

// Paths of the rendered files.
const (
	SwanctlConf   = "swanctl/swanctl.conf"
	SecretsConf   = "swanctl/conf.d/secrets.conf"
	StrongswanFrg = "strongswan.d/styx.conf"
	NftFile       = "nftables.nft"
	IptablesV4    = "iptables.rules"
	IptablesV6    = "ip6tables.rules"
	SysctlFile    = "sysctl.conf"
	RoutesFile    = "routes.sh"
	BirdConf      = "bird.conf"
)

// Options configure rendering.
type Options struct {
	// Source names the topology file in headers (a base name: no host paths).
	Source string
	// Secrets reads secret values; with Redact nothing is read.
	Secrets swanctl.SecretReader
	Redact  bool
	// Iptables renders the iptables-restore variant too.
	Iptables func(gw *plan.Gateway, source string) (v4, v6 []byte)
}

// Gateway renders every file of one gateway, sorted by path.
func Gateway(gw *plan.Gateway, opts Options) ([]File, error) {
	src := filepath.Base(opts.Source)
	secrets, err := swanctl.Secrets(gw, src, opts.Secrets, opts.Redact)
	if err != nil {
		return nil, err
	}
	files := []File{
		{Path: SwanctlConf, Mode: 0o644, Data: swanctl.Config(gw, src)},
		{Path: SecretsConf, Mode: 0o600, Data: secrets, Secret: true},
		{Path: StrongswanFrg, Mode: 0o644, Data: Strongswan(gw, src)},
		{Path: NftFile, Mode: 0o644, Data: nft.Render(gw, src)},
		{Path: SysctlFile, Mode: 0o644, Data: Sysctl(gw, src)},
		{Path: RoutesFile, Mode: 0o755, Data: Routes(gw, src)},
	}
	if gw.BGP != nil {
		files = append(files, File{Path: BirdConf, Mode: 0o644, Data: bird.Render(gw.BGP, gw.Name, src)})
	}
	if opts.Iptables != nil {
		v4, v6 := opts.Iptables(gw, src)
		files = append(files, File{Path: IptablesV4, Mode: 0o644, Data: v4}, File{Path: IptablesV6, Mode: 0o644, Data: v6})
	}
	slices.SortFunc(files, func(a, b File) int { return strings.Compare(a.Path, b.Path) })
	return files, nil
}

// Strongswan renders the strongswan.conf fragment (for
// /etc/strongswan.d/styx.conf) the gateway's data plane needs.
func Strongswan(gw *plan.Gateway, source string) []byte {
	var b strings.Builder
	c := gw.Charon
	fmt.Fprintf(&b, "# strongswan.conf fragment for gateway %s, rendered by styx from %s -- do not edit.\n", gw.Name, source)
	fmt.Fprintf(&b, "# Install as /etc/strongswan.d/styx.conf (included by strongswan.conf).\n")
	if c.Dataplane == topology.Libipsec {
		b.WriteString("# data plane: libipsec (ESP in user space over TUN ipsec0; traps do not work, tunnels are started)\n")
	} else {
		b.WriteString("# data plane: kernel (kernel-netlink)\n")
	}
	b.WriteString("charon {\n")
	if c.InstallRoutes {
		b.WriteString("    # policy-based tunnels: routes for remote selectors go to table 220\n")
		b.WriteString("    install_routes = yes\n")
	} else {
		b.WriteString("    # VTI: routes point at the tunnel devices; charon must not install its own\n")
		b.WriteString("    install_routes = no\n")
		b.WriteString("    routing_table = 0\n")
	}
	if len(c.InterfacesIgnore) > 0 {
		b.WriteString("    # IKE must never use the tunnel devices\n")
		fmt.Fprintf(&b, "    interfaces_ignore = %s\n", strings.Join(c.InterfacesIgnore, ", "))
	}
	if c.Dataplane != topology.Libipsec {
		b.WriteString("}\n")
		return []byte(b.String())
	}
	b.WriteString("    plugins {\n")
	if c.Dataplane == topology.Libipsec {
		b.WriteString("        kernel-libipsec {\n")
		b.WriteString("            # must be loaded before kernel-netlink (it provides the IPsec backend)\n")
		b.WriteString("            load = 20\n")
		if c.PeerTSFwmark {
			b.WriteString("            # a remote selector contains a peer's own IKE address (host-to-host)\n")
			b.WriteString("            allow_peer_ts = yes\n")
		}
		b.WriteString("        }\n")
	}
	if c.Dataplane == topology.Libipsec && c.PeerTSFwmark {
		b.WriteString("        # charon's own IKE/ESP packets carry mark 0x42 and bypass table 220,\n")
		b.WriteString("        # which routes the peer's address into ipsec0\n")
		b.WriteString("        socket-default {\n            fwmark = 0x42\n        }\n")
		b.WriteString("        kernel-netlink {\n            fwmark = !0x42\n        }\n")
	}
	b.WriteString("    }\n}\n")
	return []byte(b.String())
}

// Sysctl renders sysctl.conf lines (for /etc/sysctl.d/90-styx.conf).
func Sysctl(gw *plan.Gateway, source string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "# sysctls for gateway %s, rendered by styx from %s -- do not edit.\n", gw.Name, source)
	for _, s := range gw.Sysctls {
		if s.Why != "" {
			fmt.Fprintf(&b, "# %s\n", s.Why)
		}
		fmt.Fprintf(&b, "%s = %s\n", s.Key, s.Value)
	}
	return []byte(b.String())
}

// Routes renders the links, addresses and routes styx owns as ip(8)
// commands.
func Routes(gw *plan.Gateway, source string) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "#!/bin/sh\n# links and routes for gateway %s, rendered by styx from %s -- do not edit.\n", gw.Name, source)
	if len(gw.Links)+len(gw.Addresses)+len(gw.Routes)+len(gw.Rules) == 0 {
		b.WriteString("# nothing: policy-based tunnels only (charon routes remote selectors in table 220)\n")
		return []byte(b.String())
	}
	b.WriteString("set -e\n")
	b.WriteString("# idempotent: devices that exist are kept, addresses and routes are replaced\n")
	for _, l := range gw.Links {
		fmt.Fprintf(&b, "# %s\n", l.Why)
		fmt.Fprintf(&b, "ip link show %s >/dev/null 2>&1 || %s\n", l.Name, strings.Join(l.AddArgs(), " "))
		multicast := ""
		if l.Multicast {
			multicast = " multicast on"
		}
		fmt.Fprintf(&b, "ip link set %s mtu %d%s up\n", l.Name, l.MTU, multicast)
	}
	for _, a := range gw.Addresses {
		if a.Peer.IsValid() && a.Prefix.IsSingleIP() {
			fmt.Fprintf(&b, "# %s\nip addr replace %s peer %s dev %s\n", a.Why, a.Prefix.Addr(), a.Peer, a.Dev)
			continue
		}
		fmt.Fprintf(&b, "# %s\nip addr replace %s dev %s\n", a.Why, a.Prefix, a.Dev)
	}
	for _, r := range gw.Routes {
		fmt.Fprintf(&b, "# %s\n", r.Why)
		table := ""
		if r.Table != 0 {
			table = fmt.Sprintf(" table %d", r.Table)
		}
		if r.Type != "" {
			fmt.Fprintf(&b, "ip route replace %s %s metric %d%s\n", r.Type, r.Dst, r.Metric, table)
		} else {
			fmt.Fprintf(&b, "ip route replace %s dev %s metric %d%s\n", r.Dst, r.Dev, r.Metric, table)
		}
	}
	for _, r := range gw.Rules {
		mark := ""
		if r.NotFwmark != "" {
			mark = " not fwmark " + r.NotFwmark
		}
		fmt.Fprintf(&b, "# %s\nip rule del priority %d 2>/dev/null || true\nip rule add priority %d%s table %d\n", r.Why, r.Priority, r.Priority, mark, r.Table)
	}
	return []byte(b.String())
}
