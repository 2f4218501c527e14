package apply

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/styx-vpn/styx/internal/plan"
	"github.com/styx-vpn/styx/internal/render/swanctl"
)

// Desired is what the gateway should have.
type Desired struct {
	Gateway *plan.Gateway
	// Nft is the rendered firewall: the nftables file, or (FirewallKind
	// "iptables") an IptablesRuleset; nil leaves the firewall alone.
	Nft []byte
	// FirewallKind names the backend in changes: "nftables" (default) or
	// "iptables".
	FirewallKind string
	// Secrets are the secret values (as read, before decoding), by secret name.
	Secrets map[string][]byte
	// Commands are ip commands for links, addresses and routes.
	Commands []StateCommand
	// Bird is the rendered bird.conf; nil when the gateway has no BGP.
	Bird []byte
}

// Observed is what the gateway has now.
type Observed struct {
	State                *State
	Conns, Shared, Pools []string
	NftExists            bool
	// NftLive is the live firewall as Listing normalises it.
	NftLive string
	Sysctls map[string]string
	// Bird is the BIRD configuration file as it is now, if BirdExists.
	Bird       []byte
	BirdExists bool
}

// Op is what a change does.
type Op string

// Operations.
const (
	Add    Op = "+"
	Modify Op = "~"
	Remove Op = "-"
)

// Change is one difference between desired and observed state.
type Change struct {
	Op     Op
	What   string // connection, secret, pool, nftables, sysctl, command, bird
	Name   string
	Detail []string
	// Reload marks a connection that is unchanged in the state file but
	// missing from charon (charon restarted).
	Reload bool
}

// String formats the change as one line (details follow indented).
func (c Change) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s %s", c.Op, c.What, c.Name)
	if c.Reload {
		b.WriteString(" (missing in charon, reload)")
	}
	for _, d := range c.Detail {
		fmt.Fprintf(&b, "\n    %s", d)
	}
	return b.String()
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// Diff computes the changes that make observed match desired, in the order
// apply performs them.
func Diff(d Desired, o Observed) []Change {
	st := o.State
	if st == nil {
		st = newState(d.Gateway.Name)
	}
	liveConns, liveShared, livePools := set(o.Conns), set(o.Shared), set(o.Pools)
	wantConns, wantShared, wantPools := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, c := range d.Gateway.Conns {
		wantConns[c.Name] = true
	}
	for _, s := range d.Gateway.Secrets {
		wantShared[s.Name] = true
	}
	for _, p := range d.Gateway.Pools {
		wantPools[p.Name] = true
	}
	var out []Change
	replaced := replacedDevices(st.Commands, d.Commands)
	// sysctls (those of styx's own devices after the devices exist; a
	// device created anew starts with the defaults)
	sysctls := func(device bool) {
		for _, s := range d.Gateway.Sysctls {
			cur, ok := o.Sysctls[s.Key]
			if (s.Device != "") != device || (!ok && s.Optional) {
				continue
			}
			if !ok || cur != s.Value || replaced[s.Device] {
				out = append(out, Change{Op: Modify, What: "sysctl", Name: s.Key, Detail: []string{fmt.Sprintf("%s -> %s", orNone(cur), s.Value)}})
			}
		}
	}
	sysctls(false)
	// commands (links, addresses, routes): removals first, in reverse
	// order so that addresses and routes go before their device, and so
	// that a route or device that moves is gone before its successor is
	// added (ip would refuse a second route to the same destination and
	// metric). A device created again under its name with other
	// parameters takes its addresses and routes with it: they are removed
	// and added again too.
	has := func(list []StateCommand, c StateCommand) bool {
		return slices.ContainsFunc(list, func(x StateCommand) bool { return slices.Equal(x.Do, c.Do) })
	}
	for _, c := range slices.Backward(st.Commands) {
		if !has(d.Commands, c) || replaced[commandDevice(c)] {
			out = append(out, Change{Op: Remove, What: "command", Name: strings.Join(c.Do, " ")})
		}
	}
	for _, c := range d.Commands {
		had, dev := has(st.Commands, c), commandDevice(c)
		if had && !replaced[dev] {
			continue
		}
		ch := Change{Op: Add, What: "command", Name: strings.Join(c.Do, " ")}
		if had {
			ch.Detail = []string{"again: device " + dev + " is created anew"}
		}
		out = append(out, ch)
	}
	sysctls(true)
	// firewall
	fwKind, fwName := "nftables", "table inet styx"
	if d.FirewallKind == "iptables" {
		fwKind, fwName = "iptables", "chains STYX-*"
	}
	if d.Nft != nil {
		switch {
		case !o.NftExists:
			out = append(out, Change{Op: Add, What: fwKind, Name: fwName, Detail: []string{fmt.Sprintf("%d lines", bytes.Count(d.Nft, []byte("\n")))}})
		case st.Nft != string(d.Nft):
			out = append(out, Change{Op: Modify, What: fwKind, Name: fwName, Detail: lineDiff(st.Nft, string(d.Nft))})
		case st.NftLive != "" && o.NftLive != st.NftLive:
			detail := append([]string{"the live rules differ from what styx loaded (edited by hand or by another tool); live -> as loaded:"},
				lineDiff(o.NftLive, st.NftLive)...)
			out = append(out, Change{Op: Modify, What: fwKind, Name: fwName, Detail: detail})
		}
	}
	// secrets
	for _, s := range d.Gateway.Secrets {
		enc := swanctl.EncodeSecret(d.Secrets[s.Name])
		prev, had := st.Secrets[s.Name]
		live := liveShared[s.Name]
		switch {
		case !had || !live:
			out = append(out, Change{Op: Add, What: "secret", Name: s.Name, Detail: []string{"owners " + strings.Join(s.IDs, ", ") + ", value " + swanctl.Redacted}, Reload: had && !live})
		case prev.Value != enc || !slices.Equal(prev.Owners, s.IDs):
			out = append(out, Change{Op: Modify, What: "secret", Name: s.Name, Detail: []string{"owners " + strings.Join(s.IDs, ", ") + ", value " + swanctl.Redacted}})
		}
	}
	// pools
	for _, p := range d.Gateway.Pools {
		js := mustJSON(p)
		prev, had := st.Pools[p.Name]
		live := livePools[p.Name]
		switch {
		case !had || !live:
			out = append(out, Change{Op: Add, What: "pool", Name: p.Name, Detail: []string{p.Addrs.String()}, Reload: had && !live})
		case !sameJSON(prev, js):
			out = append(out, Change{Op: Modify, What: "pool", Name: p.Name, Detail: jsonFieldDiff(prev, js)})
		}
	}
	// connections
	for _, c := range d.Gateway.Conns {
		js := mustJSON(c)
		prev, had := st.Conns[c.Name]
		live := liveConns[c.Name]
		switch {
		case !had || !live:
			out = append(out, Change{Op: Add, What: "connection", Name: c.Name, Detail: []string{c.Origin}, Reload: had && !live})
		case !sameJSON(prev, js):
			out = append(out, Change{Op: Modify, What: "connection", Name: c.Name, Detail: jsonFieldDiff(prev, js)})
		}
	}
	// removals: only what styx applied before
	for _, name := range sortedKeys(st.Conns) {
		if !wantConns[name] && liveConns[name] {
			out = append(out, Change{Op: Remove, What: "connection", Name: name})
		}
	}
	for _, name := range sortedKeys(st.Secrets) {
		if !wantShared[name] && liveShared[name] {
			out = append(out, Change{Op: Remove, What: "secret", Name: name})
		}
	}
	for _, name := range sortedKeys(st.Pools) {
		if !wantPools[name] && livePools[name] {
			out = append(out, Change{Op: Remove, What: "pool", Name: name})
		}
	}
	if d.Nft == nil && st.Nft != "" && o.NftExists {
		out = append(out, Change{Op: Remove, What: fwKind, Name: fwName})
	}
	// BGP last: the sessions run over the tunnel devices and the firewall
	// must let them through
	switch {
	case d.Bird != nil && !o.BirdExists:
		out = append(out, Change{Op: Add, What: "bird", Name: "bird.conf", Detail: []string{fmt.Sprintf("%d lines", bytes.Count(d.Bird, []byte("\n")))}})
	case d.Bird != nil && !bytes.Equal(o.Bird, d.Bird):
		out = append(out, Change{Op: Modify, What: "bird", Name: "bird.conf", Detail: lineDiff(string(o.Bird), string(d.Bird))})
	case d.Bird == nil && st.Bird != "" && o.BirdExists && !bytes.Equal(o.Bird, BirdIdle([]byte(st.Bird))):
		out = append(out, Change{Op: Remove, What: "bird", Name: "bird.conf", Detail: []string{"no bgp section: BIRD keeps no sessions"}})
	}
	return out
}

// sameJSON compares two JSON documents ignoring formatting (the state
// file is indented; LoadState compacts it, so equal bytes is the common case).
func sameJSON(a, b []byte) bool {
	if bytes.Equal(a, b) {
		return true
	}
	var x, y bytes.Buffer
	if json.Compact(&x, a) != nil || json.Compact(&y, b) != nil {
		return false
	}
	return bytes.Equal(x.Bytes(), y.Bytes())
}

func set(names []string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

func orNone(s string) string {
	if s == "" {
		return "(unset)"
	}
	return s
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// jsonFieldDiff lists the fields that differ between two JSON objects,
// recursively, as "path: old -> new".
func jsonFieldDiff(a, b json.RawMessage) []string {
	var x, y any
	json.Unmarshal(a, &x)
	json.Unmarshal(b, &y)
	var out []string
	walkDiff("", x, y, &out)
	return out
}

func walkDiff(path string, a, b any, out *[]string) {
	am, aok := a.(map[string]any)
	bm, bok := b.(map[string]any)
	if aok && bok {
		keys := map[string]bool{}
		for k := range am {
			keys[k] = true
		}
		for k := range bm {
			keys[k] = true
		}
		for _, k := range sortedKeys(keys) {
			p := k
			if path != "" {
				p = path + "." + k
			}
			walkDiff(p, am[k], bm[k], out)
		}
		return
	}
	al, aok := a.([]any)
	bl, bok := b.([]any)
	if aok && bok && len(al) == len(bl) {
		for i := range al {
			walkDiff(fmt.Sprintf("%s[%d]", path, i), al[i], bl[i], out)
		}
		return
	}
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	if !bytes.Equal(ja, jb) {
		*out = append(*out, fmt.Sprintf("%s: %s -> %s", path, ja, jb))
	}
}

// lineDiff is a small line diff (removed lines with -, added with +),
// enough to show which rules change.
func lineDiff(a, b string) []string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	inB := map[string]int{}
	for _, l := range bl {
		inB[l]++
	}
	inA := map[string]int{}
	for _, l := range al {
		inA[l]++
	}
	var out []string
	for _, l := range al {
		if inB[l] == 0 && strings.TrimSpace(l) != "" {
			out = append(out, "- "+strings.TrimSpace(l))
		}
	}
	for _, l := range bl {
		if inA[l] == 0 && strings.TrimSpace(l) != "" {
			out = append(out, "+ "+strings.TrimSpace(l))
		}
	}
	return out
}

// counterValues match the state in a firewall listing: nft's
// "counter packets N bytes M" and iptables-save's "[N:M]".
var counterValues = regexp.MustCompile(`counter packets \d+ bytes \d+|\[\d+:\d+\]`)

// Listing normalises a live firewall listing (nft list table, or the
// STYX-* chains of iptables-save) for comparison: counter values are
// zeroed, so that only rules, sets and chains count. An empty listing
// stays empty.
func Listing(live []byte) string {
	return counterValues.ReplaceAllStringFunc(string(live), func(m string) string {
		if strings.HasPrefix(m, "[") {
			return "[0:0]"
		}
		return "counter"
	})
}

// replacedDevices returns the devices whose link command changed under the
// same name between the applied commands and the desired ones.
func replacedDevices(applied, desired []StateCommand) map[string]bool {
	out := map[string]bool{}
	for _, a := range applied {
		name := linkAdded(a)
		if name == "" {
			continue
		}
		for _, d := range desired {
			if linkAdded(d) == name && !slices.Equal(a.Do, d.Do) {
				out[name] = true
			}
		}
	}
	return out
}

// linkAdded returns the device an `ip link add` command creates, or "".
func linkAdded(c StateCommand) string {
	if len(c.Undo) == 4 && c.Undo[0] == "ip" && c.Undo[1] == "link" && c.Undo[2] == "del" {
		return c.Undo[3]
	}
	return ""
}

// commandDevice returns the device a command creates, sets or puts
// something on (ip link add/set NAME, ip addr/route ... dev NAME), or "".
func commandDevice(c StateCommand) string {
	if name := linkAdded(c); name != "" {
		return name
	}
	if len(c.Do) > 3 && c.Do[0] == "ip" && c.Do[1] == "link" && c.Do[2] == "set" {
		return c.Do[3]
	}
	if i := slices.Index(c.Do, "dev"); i > 0 && i+1 < len(c.Do) {
		return c.Do[i+1]
	}
	return ""
}
