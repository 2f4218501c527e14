package apply

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"

	govici "github.com/strongswan/govici/vici"

	"github.com/styx-vpn/styx/internal/plan"
	"github.com/styx-vpn/styx/internal/render/swanctl"
	"github.com/styx-vpn/styx/internal/vici"
)

// Engine applies plans to one gateway.
type Engine struct {
	Store    Store
	Creds    Credentials // nil: certificates are not loaded
	Firewall Firewall    // nil: the firewall is left alone
	Sysctls  Sysctls     // nil: sysctls are left alone
	Runner   Runner      // nil: links and routes are left alone
	Router   Router      // nil: BIRD is left alone
	StateDir string
	// ReadFile reads certificate and key files named by the plan.
	ReadFile func(path string) ([]byte, error)
	// Log receives one line per step taken (may be nil).
	Log io.Writer
}

func (e *Engine) logf(format string, args ...any) {
	if e.Log != nil {
		fmt.Fprintf(e.Log, format+"\n", args...)
	}
}

// Observe reads the gateway's current state.
func (e *Engine) Observe(ctx context.Context, d Desired) (Observed, []byte, error) {
	var o Observed
	st, err := LoadState(e.StateDir, d.Gateway.Name)
	if err != nil {
		return o, nil, err
	}
	o.State = st
	if o.Conns, err = e.Store.Names(ctx, Conn); err != nil {
		return o, nil, fmt.Errorf("reading loaded connections: %w", err)
	}
	if o.Shared, err = e.Store.Names(ctx, Shared); err != nil {
		return o, nil, fmt.Errorf("reading loaded secrets: %w", err)
	}
	if o.Pools, err = e.Store.Names(ctx, Pool); err != nil {
		return o, nil, fmt.Errorf("reading loaded pools: %w", err)
	}
	var nftNow []byte
	if e.Firewall != nil {
		if nftNow, o.NftExists, err = e.Firewall.Current(ctx); err != nil {
			return o, nil, fmt.Errorf("reading the nftables table: %w", err)
		}
		o.NftLive = Listing(nftNow)
	}
	o.Sysctls = map[string]string{}
	if e.Sysctls != nil {
		for _, s := range d.Gateway.Sysctls {
			v, err := e.Sysctls.Get(ctx, s.Key)
			if err == nil {
				o.Sysctls[s.Key] = v
			}
		}
	}
	if e.Router != nil {
		if o.Bird, o.BirdExists, err = e.Router.Current(ctx); err != nil {
			return o, nil, fmt.Errorf("reading the BIRD configuration: %w", err)
		}
	}
	return o, nftNow, nil
}

// Plan returns the changes apply would make.
func (e *Engine) Plan(ctx context.Context, d Desired) ([]Change, error) {
	d = e.scope(d)
	o, _, err := e.Observe(ctx, d)
	if err != nil {
		return nil, err
	}
	return Diff(d, o), nil
}

// scope drops from d what this engine has no effect for (no firewall, no
// sysctls, no runner): those parts are left alone, not removed.
func (e *Engine) scope(d Desired) Desired {
	if e.Firewall == nil {
		d.Nft = nil
	}
	if e.Sysctls == nil {
		d.Gateway = withoutSysctls(d.Gateway)
	}
	if e.Runner == nil {
		d.Commands = nil
	}
	if e.Router == nil {
		d.Bird = nil
	}
	return d
}

func withoutSysctls(g *plan.Gateway) *plan.Gateway {
	c := *g
	c.Sysctls = nil
	return &c
}

// step is one change with its undo.
type step struct {
	change Change
	do     func(context.Context) error
	undo   func(context.Context) error
}

// StepError says which step of an apply failed and what the rollback did.
type StepError struct {
	Step       Change
	Err        error
	RolledBack int
	UndoErrs   []error
}

func (e *StepError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "apply failed at step %s %s %s: %v", e.Step.Op, e.Step.What, e.Step.Name, e.Err)
	fmt.Fprintf(&b, "; rolled back %d step(s)", e.RolledBack)
	if len(e.UndoErrs) > 0 {
		fmt.Fprintf(&b, ", but the rollback also failed: %v", errors.Join(e.UndoErrs...))
	} else {
		b.WriteString(", the gateway is as it was before")
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *StepError) Unwrap() error { return e.Err }

// Apply makes the gateway match d. On failure every step already taken is
// undone in reverse order and the error is a *StepError.
func (e *Engine) Apply(ctx context.Context, d Desired) ([]Change, error) {
	d = e.scope(d)
	o, nftNow, err := e.Observe(ctx, d)
	if err != nil {
		return nil, err
	}
	changes := Diff(d, o)
	if err := e.loadCredentials(ctx, d.Gateway); err != nil {
		return nil, err
	}
	next := cloneState(o.State)
	steps, err := e.steps(d, o, nftNow, changes, next)
	if err != nil {
		return nil, err
	}
	for i, s := range steps {
		e.logf("%s %s %s", s.change.Op, s.change.What, s.change.Name)
		if err := s.do(ctx); err != nil {
			se := &StepError{Step: s.change, Err: err}
			for j := i - 1; j >= 0; j-- {
				if steps[j].undo == nil {
					continue
				}
				if uerr := steps[j].undo(ctx); uerr != nil {
					se.UndoErrs = append(se.UndoErrs, fmt.Errorf("undo %s %s: %w", steps[j].change.What, steps[j].change.Name, uerr))
				}
				se.RolledBack++
			}
			return changes[:i], se
		}
	}
	if err := next.Save(e.StateDir); err != nil {
		return changes, err
	}
	return changes, nil
}

// cloneState copies the state's maps and lists; the JSON documents in it
// are never modified in place, so they are shared.
func cloneState(s *State) *State {
	c := newState(s.Gateway)
	maps.Copy(c.Conns, s.Conns)
	maps.Copy(c.Secrets, s.Secrets)
	maps.Copy(c.Pools, s.Pools)
	maps.Copy(c.Sysctls, s.Sysctls)
	c.Nft = s.Nft
	c.NftLive = s.NftLive
	c.Commands = slices.Clone(s.Commands)
	c.Bird = s.Bird
	return c
}

func (e *Engine) loadCredentials(ctx context.Context, gw *plan.Gateway) error {
	if len(gw.Certs) == 0 || e.Creds == nil {
		return nil
	}
	for _, cf := range gw.Certs {
		data, err := e.ReadFile(cf.Path)
		if err != nil {
			return fmt.Errorf("certificate %s: %w", cf.Path, err)
		}
		der := data
		if blk, _ := pem.Decode(data); blk != nil {
			der = blk.Bytes
		}
		switch cf.Dir {
		case "private":
			err = e.Creds.LoadKey(ctx, "any", der)
		case "x509ca":
			err = e.Creds.LoadCert(ctx, der, "ca")
		default:
			err = e.Creds.LoadCert(ctx, der, "none")
		}
		if err != nil {
			return fmt.Errorf("loading %s: %w", cf.Path, err)
		}
	}
	return nil
}

// certData returns DER of certificates referenced by connections.
func (e *Engine) certData(gw *plan.Gateway) vici.CertData {
	return func(dir, name string) ([]byte, error) {
		for _, cf := range gw.Certs {
			if cf.Dir == dir && cf.Name == name {
				data, err := e.ReadFile(cf.Path)
				if err != nil {
					return nil, err
				}
				if blk, _ := pem.Decode(data); blk != nil {
					return blk.Bytes, nil
				}
				return data, nil
			}
		}
		return nil, fmt.Errorf("certificate %s/%s is not in the plan", dir, name)
	}
}

func (e *Engine) steps(d Desired, o Observed, nftNow []byte, changes []Change, next *State) ([]step, error) {
	gw := d.Gateway
	prev := o.State
	var steps []step
	connMsg := func(raw json.RawMessage) (*govici.Message, error) {
		var c plan.Conn
		if err := json.Unmarshal(raw, &c); err != nil {
			return nil, err
		}
		return vici.ConnMessage(&c, e.certData(gw))
	}
	poolMsg := func(raw json.RawMessage) (*govici.Message, error) {
		var p plan.Pool
		if err := json.Unmarshal(raw, &p); err != nil {
			return nil, err
		}
		return vici.PoolMessage(&p), nil
	}
	sharedMsg := func(name string, ss StateSecret) (*govici.Message, error) {
		v, err := swanctl.DecodeSecret([]byte(ss.Value))
		if err != nil {
			return nil, err
		}
		return vici.SharedMessage(&plan.Secret{Name: name, Kind: ss.Kind, IDs: ss.Owners}, v), nil
	}
	reload := func(kind Kind, name string, had bool, prevMsg func() (*govici.Message, error)) func(context.Context) error {
		return func(ctx context.Context) error {
			if !had {
				return e.Store.Unload(ctx, kind, name)
			}
			m, err := prevMsg()
			if err != nil {
				return err
			}
			return e.Store.Load(ctx, kind, name, m)
		}
	}
	for _, ch := range changes {
		ch := ch
		switch ch.What {
		case "sysctl":
			old := o.Sysctls[ch.Name]
			val := sysctlValue(gw, ch.Name)
			steps = append(steps, step{ch,
				func(ctx context.Context) error { return e.Sysctls.Set(ctx, ch.Name, val) },
				func(ctx context.Context) error {
					if old == "" {
						return nil
					}
					return e.Sysctls.Set(ctx, ch.Name, old)
				}})
			orig := old
			if p, ok := prev.Sysctls[ch.Name]; ok {
				orig = p.Original
			}
			next.Sysctls[ch.Name] = StateSysctl{Value: val, Original: orig}
		case "command":
			var cmd StateCommand
			for _, c := range append(slices.Clone(d.Commands), prev.Commands...) {
				if strings.Join(c.Do, " ") == ch.Name {
					cmd = c
					break
				}
			}
			do, undo := cmd.Do, cmd.Undo
			if ch.Op == Remove {
				do, undo = undo, do
				next.Commands = slices.DeleteFunc(next.Commands, func(x StateCommand) bool { return slices.Equal(x.Do, cmd.Do) })
			} else {
				next.Commands = append(next.Commands, cmd)
			}
			steps = append(steps, step{ch,
				func(ctx context.Context) error { _, err := e.Runner.Run(ctx, do...); return err },
				func(ctx context.Context) error { _, err := e.Runner.Run(ctx, undo...); return err }})
		case "nftables", "iptables":
			existed := o.NftExists
			restore := restoreScript(nftNow)
			if ch.Op == Remove {
				steps = append(steps, step{ch,
					func(ctx context.Context) error { return e.Firewall.Remove(ctx) },
					func(ctx context.Context) error { return e.Firewall.Load(ctx, restore) }})
				next.Nft, next.NftLive = "", ""
				continue
			}
			nft := d.Nft
			steps = append(steps, step{ch,
				func(ctx context.Context) error {
					if err := e.Firewall.Load(ctx, nft); err != nil {
						return err
					}
					// what the kernel made of it, for finding later edits
					live, _, err := e.Firewall.Current(ctx)
					if err != nil {
						return fmt.Errorf("reading the loaded rules back: %w", err)
					}
					next.NftLive = Listing(live)
					return nil
				},
				func(ctx context.Context) error {
					if !existed {
						return e.Firewall.Remove(ctx)
					}
					return e.Firewall.Load(ctx, restore)
				}})
			next.Nft = string(nft)
		case "bird":
			old, existed := o.Bird, o.BirdExists
			conf := d.Bird
			if ch.Op == Remove {
				conf = BirdIdle([]byte(prev.Bird))
				next.Bird = ""
			} else {
				next.Bird = string(conf)
			}
			steps = append(steps, step{ch,
				func(ctx context.Context) error { return e.Router.Load(ctx, conf) },
				func(ctx context.Context) error {
					if !existed {
						return e.Router.Load(ctx, BirdIdle(conf))
					}
					return e.Router.Load(ctx, old)
				}})
		case "secret":
			old, had := prev.Secrets[ch.Name]
			had = had && slices.Contains(o.Shared, ch.Name)
			if ch.Op == Remove {
				steps = append(steps, step{ch,
					func(ctx context.Context) error { return e.Store.Unload(ctx, Shared, ch.Name) },
					reload(Shared, ch.Name, true, func() (*govici.Message, error) { return sharedMsg(ch.Name, old) })})
				delete(next.Secrets, ch.Name)
				continue
			}
			s := findSecret(gw, ch.Name)
			raw := d.Secrets[s.Name]
			value, err := swanctl.DecodeSecret(raw)
			if s.Kind == "eap" {
				value, err = raw, nil // a password is taken literally
			}
			if err != nil {
				return nil, fmt.Errorf("secret %s: %w", s.Name, err)
			}
			msg := vici.SharedMessage(s, value)
			steps = append(steps, step{ch,
				func(ctx context.Context) error { return e.Store.Load(ctx, Shared, s.Name, msg) },
				reload(Shared, s.Name, had, func() (*govici.Message, error) { return sharedMsg(s.Name, old) })})
			next.Secrets[s.Name] = StateSecret{Kind: s.Kind, Owners: s.IDs, Value: swanctl.EncodeSecret(raw)}
		case "pool":
			old, had := prev.Pools[ch.Name]
			had = had && slices.Contains(o.Pools, ch.Name)
			if ch.Op == Remove {
				steps = append(steps, step{ch,
					func(ctx context.Context) error { return e.Store.Unload(ctx, Pool, ch.Name) },
					reload(Pool, ch.Name, true, func() (*govici.Message, error) { return poolMsg(old) })})
				delete(next.Pools, ch.Name)
				continue
			}
			p := findPool(gw, ch.Name)
			msg := vici.PoolMessage(p)
			steps = append(steps, step{ch,
				func(ctx context.Context) error { return e.Store.Load(ctx, Pool, p.Name, msg) },
				reload(Pool, p.Name, had, func() (*govici.Message, error) { return poolMsg(old) })})
			next.Pools[p.Name] = mustJSON(p)
		case "connection":
			old, had := prev.Conns[ch.Name]
			had = had && slices.Contains(o.Conns, ch.Name)
			if ch.Op == Remove {
				steps = append(steps, step{ch,
					func(ctx context.Context) error { return e.Store.Unload(ctx, Conn, ch.Name) },
					reload(Conn, ch.Name, true, func() (*govici.Message, error) { return connMsg(old) })})
				delete(next.Conns, ch.Name)
				continue
			}
			c := findConn(gw, ch.Name)
			msg, err := vici.ConnMessage(c, e.certData(gw))
			if err != nil {
				return nil, err
			}
			steps = append(steps, step{ch,
				func(ctx context.Context) error { return e.Store.Load(ctx, Conn, c.Name, msg) },
				reload(Conn, c.Name, had, func() (*govici.Message, error) { return connMsg(old) })})
			next.Conns[c.Name] = mustJSON(c)
		}
	}
	// Objects no longer planned that charon had already lost (restart) get
	// no Remove step; forget them too, or a later object of the same name
	// loaded by someone else would be unloaded as styx's.
	for name := range next.Conns {
		if findConn(gw, name) == nil {
			delete(next.Conns, name)
		}
	}
	for name := range next.Secrets {
		if findSecret(gw, name) == nil {
			delete(next.Secrets, name)
		}
	}
	for name := range next.Pools {
		if findPool(gw, name) == nil {
			delete(next.Pools, name)
		}
	}
	return steps, nil
}

// restoreScript turns an `nft list table` output back into an atomic
// replacement file.
func restoreScript(listing []byte) []byte {
	return append([]byte("table inet styx {}\ndelete table inet styx\n"), listing...)
}

func sysctlValue(gw *plan.Gateway, key string) string {
	for _, s := range gw.Sysctls {
		if s.Key == key {
			return s.Value
		}
	}
	return ""
}

func findSecret(gw *plan.Gateway, name string) *plan.Secret {
	for _, s := range gw.Secrets {
		if s.Name == name {
			return s
		}
	}
	return nil
}

func findPool(gw *plan.Gateway, name string) *plan.Pool {
	for _, p := range gw.Pools {
		if p.Name == name {
			return p
		}
	}
	return nil
}

func findConn(gw *plan.Gateway, name string) *plan.Conn {
	for _, c := range gw.Conns {
		if c.Name == name {
			return c
		}
	}
	return nil
}
