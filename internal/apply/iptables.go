package apply

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/styx-vpn/styx/internal/render/iptables"
)

// Separators of the combined iptables ruleset (see IptablesRuleset).
const (
	ip6Marker   = "#### ip6tables-restore ####\n"
	hooksMarker = "#### hooks ####\n"
)

// IptablesRuleset combines the iptables-restore and ip6tables-restore files
// and the jumps from built-in chains (check form: -t T -C CHAIN -j STYX-X)
// into the one ruleset the Iptables firewall loads.
func IptablesRuleset(v4, v6 []byte, hooks [][]string) []byte {
	var b bytes.Buffer
	b.Write(v4)
	b.WriteString(ip6Marker)
	b.Write(v6)
	b.WriteString(hooksMarker)
	for _, h := range hooks {
		b.WriteString(strings.Join(h, " "))
		b.WriteByte('\n')
	}
	return b.Bytes()
}

func splitRuleset(r []byte) (v4, v6 []byte, hooks [][]string) {
	s := string(r)
	a, rest, _ := strings.Cut(s, ip6Marker)
	b, h, _ := strings.Cut(rest, hooksMarker)
	for _, line := range strings.Split(h, "\n") {
		if f := strings.Fields(line); len(f) > 0 {
			hooks = append(hooks, f)
		}
	}
	return []byte(a), []byte(b), hooks
}

// Iptables is the Firewall for gateways without nftables: the styx chains
// (STYX-*) are loaded with iptables-restore --noflush (which flushes only
// the chains a file declares) and the jumps into them from the built-in
// chains are inserted once, if missing. Other chains are never touched.
type Iptables struct{ R Runner }

var families = []struct{ save, restore, cmd string }{
	{"iptables-save", "iptables-restore", "iptables"},
	{"ip6tables-save", "ip6tables-restore", "ip6tables"},
}

// Current returns the styx chains as a ruleset, and whether any exist.
func (x Iptables) Current(ctx context.Context) ([]byte, bool, error) {
	var parts [2][]byte
	var hooks [][]string
	exists := false
	for i, f := range families {
		out, err := x.R.Run(ctx, f.save)
		if err != nil {
			return nil, false, err
		}
		doc, h, found := styxChains(string(out))
		parts[i] = []byte(doc)
		exists = exists || found
		if i == 0 {
			hooks = h
		}
	}
	return IptablesRuleset(parts[0], parts[1], hooks), exists, nil
}

// styxChains extracts the STYX-* chains of an iptables-save dump as a
// restore file, and the jumps into them from built-in chains.
func styxChains(dump string) (doc string, hooks [][]string, found bool) {
	var b strings.Builder
	table := ""
	var body []string
	flush := func() {
		if table != "" && len(body) > 0 {
			fmt.Fprintf(&b, "*%s\n%sCOMMIT\n", table, strings.Join(body, ""))
		}
		body = nil
	}
	for _, line := range strings.Split(dump, "\n") {
		switch {
		case strings.HasPrefix(line, "*"):
			flush()
			table = line[1:]
		case strings.HasPrefix(line, ":STYX-"):
			name, _, _ := strings.Cut(line[1:], " ")
			body = append(body, ":"+name+" - [0:0]\n")
			found = true
		case strings.HasPrefix(line, "-A STYX-"):
			body = append(body, line+"\n")
		case strings.HasPrefix(line, "-A ") && strings.Contains(line, " -j STYX-"):
			f := strings.Fields(line)
			if len(f) == 4 && f[2] == "-j" {
				hooks = append(hooks, []string{"-t", table, "-C", f[1], "-j", f[3]})
			}
		}
	}
	flush()
	return b.String(), hooks, found
}

// Load applies the ruleset: both restore files with --noflush, then the
// missing jumps.
func (x Iptables) Load(ctx context.Context, ruleset []byte) error {
	v4, v6, hooks := splitRuleset(ruleset)
	for i, doc := range [][]byte{v4, v6} {
		f, err := os.CreateTemp("", "styx-*.rules")
		if err != nil {
			return err
		}
		f.Write(doc)
		f.Close()
		_, err = x.R.Run(ctx, families[i].restore, "--noflush", f.Name())
		os.Remove(f.Name())
		if err != nil {
			return err
		}
		for _, h := range hooks {
			if _, err := x.R.Run(ctx, append([]string{families[i].cmd}, h...)...); err == nil {
				continue // present already
			}
			if _, err := x.R.Run(ctx, append([]string{families[i].cmd}, iptables.InsertArgs(h)...)...); err != nil {
				return err
			}
		}
	}
	return nil
}

// Remove deletes the jumps into the styx chains and the chains themselves.
func (x Iptables) Remove(ctx context.Context) error {
	for _, f := range families {
		out, err := x.R.Run(ctx, f.save)
		if err != nil {
			return err
		}
		doc, hooks, _ := styxChains(string(out))
		for _, h := range hooks {
			del := append([]string{f.cmd}, h...)
			for i, a := range del {
				if a == "-C" {
					del[i] = "-D"
				}
			}
			if _, err := x.R.Run(ctx, del...); err != nil {
				return err
			}
		}
		table := ""
		var chains [][2]string
		for _, line := range strings.Split(doc, "\n") {
			switch {
			case strings.HasPrefix(line, "*"):
				table = line[1:]
			case strings.HasPrefix(line, ":STYX-"):
				name, _, _ := strings.Cut(line[1:], " ")
				chains = append(chains, [2]string{table, name})
			}
		}
		for _, c := range chains {
			if _, err := x.R.Run(ctx, f.cmd, "-t", c[0], "-F", c[1]); err != nil {
				return err
			}
		}
		for _, c := range chains {
			if _, err := x.R.Run(ctx, f.cmd, "-t", c[0], "-X", c[1]); err != nil {
				return err
			}
		}
	}
	return nil
}
