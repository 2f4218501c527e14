package apply

import (
	"context"
	"fmt"
	"os"
	"strings"

	govici "github.com/strongswan/govici/vici"

	"github.com/styx-vpn/styx/internal/netns"
	"github.com/styx-vpn/styx/internal/plan"
	"github.com/styx-vpn/styx/internal/vici"
)

// ViciStore is Store and Credentials over a VICI client.
type ViciStore struct{ C *vici.Client }

// Names lists loaded objects.
func (v ViciStore) Names(ctx context.Context, kind Kind) ([]string, error) {
	switch kind {
	case Conn:
		return v.C.ConnNames(ctx)
	case Shared:
		return v.C.SharedIDs(ctx)
	case Pool:
		return v.C.PoolNames(ctx)
	}
	return nil, fmt.Errorf("unknown kind %s", kind)
}

// Load loads an object.
func (v ViciStore) Load(ctx context.Context, kind Kind, name string, msg *govici.Message) error {
	switch kind {
	case Conn:
		return v.C.LoadConn(ctx, msg)
	case Shared:
		return v.C.LoadShared(ctx, msg)
	case Pool:
		return v.C.LoadPool(ctx, msg)
	}
	return fmt.Errorf("unknown kind %s", kind)
}

// Unload removes an object.
func (v ViciStore) Unload(ctx context.Context, kind Kind, name string) error {
	switch kind {
	case Conn:
		return v.C.UnloadConn(ctx, name)
	case Shared:
		return v.C.UnloadShared(ctx, name)
	case Pool:
		return v.C.UnloadPool(ctx, name)
	}
	return fmt.Errorf("unknown kind %s", kind)
}

// LoadCert loads a certificate.
func (v ViciStore) LoadCert(ctx context.Context, der []byte, flag string) error {
	return v.C.LoadCert(ctx, der, flag)
}

// LoadKey loads a private key.
func (v ViciStore) LoadKey(ctx context.Context, typ string, der []byte) error {
	return v.C.LoadKey(ctx, typ, der)
}

// Exec runs commands, in network namespace NetNS unless it is empty.
type Exec struct{ NetNS string }

// Run runs argv; "File exists" answers to add commands count as success.
func (x Exec) Run(ctx context.Context, argv ...string) ([]byte, error) {
	if len(argv) == 0 {
		return nil, nil
	}
	out, err := netns.Run(ctx, x.NetNS, argv[0], argv[1:]...)
	if err != nil && strings.Contains(string(out), "File exists") {
		return out, nil
	}
	return out, err
}

// Nft is the Firewall backed by the nft command.
type Nft struct{ R Runner }

// Current lists table inet styx.
func (n Nft) Current(ctx context.Context) ([]byte, bool, error) {
	out, err := n.R.Run(ctx, "nft", "list", "table", "inet", "styx")
	if err != nil {
		if strings.Contains(string(out), "No such file or directory") {
			return nil, false, nil
		}
		return nil, false, err
	}
	return out, true, nil
}

// Load applies a ruleset file atomically.
func (n Nft) Load(ctx context.Context, ruleset []byte) error {
	f, err := os.CreateTemp("", "styx-*.nft")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if _, err := f.Write(ruleset); err != nil {
		f.Close()
		return err
	}
	f.Close()
	_, err = n.R.Run(ctx, "nft", "-f", f.Name())
	return err
}

// Remove deletes table inet styx.
func (n Nft) Remove(ctx context.Context) error {
	_, err := n.R.Run(ctx, "nft", "delete", "table", "inet", "styx")
	return err
}

// ProcSysctls reads and writes sysctls in /proc/sys, in network
// namespace NetNS unless it is empty (without starting a process: in the
// VM tier every exec is slow).
type ProcSysctls struct{ NetNS string }

// sysctlPath is the /proc/sys file of a key (dots are separators, as for
// sysctl(8)).
func sysctlPath(key string) string {
	return "/proc/sys/" + strings.ReplaceAll(key, ".", "/")
}

// Get returns the current value.
func (p ProcSysctls) Get(ctx context.Context, key string) (string, error) {
	var v []byte
	err := netns.Do(p.NetNS, func() (err error) {
		v, err = os.ReadFile(sysctlPath(key))
		return err
	})
	if err != nil {
		return "", fmt.Errorf("sysctl %s: %w", key, err)
	}
	return strings.TrimSpace(string(v)), nil
}

// Set sets a value.
func (p ProcSysctls) Set(ctx context.Context, key, value string) error {
	err := netns.Do(p.NetNS, func() error {
		return os.WriteFile(sysctlPath(key), []byte(value), 0o644)
	})
	if err != nil {
		return fmt.Errorf("sysctl %s=%s: %w", key, value, err)
	}
	return nil
}

// Commands turns the plan's links, addresses and routes into ip commands
// with their undo.
func Commands(gw *plan.Gateway) []StateCommand {
	var out []StateCommand
	for _, l := range gw.Links {
		out = append(out, StateCommand{Do: l.AddArgs(), Undo: []string{"ip", "link", "del", l.Name}})
		up := []string{"ip", "link", "set", l.Name, "mtu", fmt.Sprint(l.MTU)}
		if l.Multicast {
			up = append(up, "multicast", "on")
		}
		out = append(out, StateCommand{Do: append(up, "up"), Undo: nil})
	}
	for _, a := range gw.Addresses {
		out = append(out, StateCommand{Do: []string{"ip", "addr", "add", a.Prefix.String(), "dev", a.Dev}, Undo: []string{"ip", "addr", "del", a.Prefix.String(), "dev", a.Dev}})
	}
	for _, r := range gw.Routes {
		var spec []string
		if r.Type != "" {
			spec = []string{r.Type, r.Dst.String(), "metric", fmt.Sprint(r.Metric)}
		} else {
			spec = []string{r.Dst.String(), "dev", r.Dev, "metric", fmt.Sprint(r.Metric)}
		}
		if r.Table != 0 {
			spec = append(spec, "table", fmt.Sprint(r.Table))
		}
		out = append(out, StateCommand{Do: append([]string{"ip", "route", "add"}, spec...), Undo: append([]string{"ip", "route", "del"}, spec...)})
	}
	for _, r := range gw.Rules {
		spec := []string{"priority", fmt.Sprint(r.Priority)}
		if r.NotFwmark != "" {
			spec = append(spec, "not", "fwmark", r.NotFwmark)
		}
		spec = append(spec, "table", fmt.Sprint(r.Table))
		out = append(out, StateCommand{Do: append([]string{"ip", "rule", "add"}, spec...), Undo: append([]string{"ip", "rule", "del"}, spec...)})
	}
	return out
}
