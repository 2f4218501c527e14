package lint

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/styx-vpn/styx/internal/crypto"
	"github.com/styx-vpn/styx/internal/diag"
	"github.com/styx-vpn/styx/internal/topology"
)

// protocol checks the IKE version and aggressive mode (crypto-baseline §6).
func (l *linter) protocol() {
	for _, t := range l.net.Tunnels {
		pos := t.VersionAt
		if !pos.IsValid() {
			pos = t.At
		}
		switch t.Version {
		case 1:
			sev := diag.Error
			if l.profile == crypto.Legacy {
				sev = diag.Warning
			}
			l.add(sev, pos, RuleIKEv1, "use version: 2; IKEv1 is deprecated (RFC 9395) and strongSwan discourages it",
				"tunnel %s uses IKEv1", t.Name)
		}
		if t.Aggressive {
			if d := l.tunnelDef(t); d != nil {
				pos = at(pos, d.Aggressive.At)
			}
			sev := diag.Error
			if l.profile == crypto.Legacy && t.Auth.Method != topology.AuthPSK {
				sev = diag.Warning
			}
			l.add(sev, pos, RuleAggressive, "remove aggressive: it sends a hash of the PSK in the clear (offline dictionary attacks)",
				"tunnel %s uses IKEv1 aggressive mode", t.Name)
		}
	}
	for _, ra := range l.net.RemoteAccess {
		if ra.Version == 1 {
			l.add(diag.Error, ra.At, RuleIKEv1, "use version: 2", "remote access %s uses IKEv1", ra.Name)
		}
	}
}

// proposals lints every crypto profile in use, once, at the position of
// its proposals (or, for built-in profiles, where it is first used).
func (l *linter) proposals() {
	type use struct {
		at      diag.Pos
		version int
	}
	used := map[*topology.Crypto]use{}
	var order []*topology.Crypto
	note := func(c *topology.Crypto, at diag.Pos, version int) {
		if c == nil {
			return
		}
		if u, ok := used[c]; ok {
			if version == 1 && u.version != 1 {
				used[c] = use{u.at, 1}
			}
			return
		}
		used[c] = use{at, version}
		order = append(order, c)
	}
	for _, t := range l.net.Tunnels {
		note(t.Crypto, l.cryptoRefPos(t.At), t.Version)
	}
	for _, ra := range l.net.RemoteAccess {
		note(ra.Crypto, ra.At, ra.Version)
	}
	for _, c := range order {
		u := used[c]
		for _, kl := range []struct {
			kind crypto.Kind
			list []string
		}{{crypto.IKE, c.IKE}, {crypto.ESP, c.ESP}} {
			kind, list := kl.kind, kl.list
			findings := crypto.Check(kind, list, l.profile, u.version)
			for _, f := range findings {
				pos := u.at
				if !c.Builtin {
					pos = c.At
					if at := proposalPos(c, kind, f.Keyword); at.IsValid() {
						pos = at
					}
				}
				where := fmt.Sprintf("crypto profile %s (%s)", c.Name, strings.ToLower(kind.String()))
				l.add(severityFor(f.Severity), pos, f.Rule, f.Hint, "%s: %s", where, f.Message)
			}
		}
	}
}

// proposalPos finds the position of the proposal containing keyword.
func proposalPos(c *topology.Crypto, kind crypto.Kind, keyword string) diag.Pos {
	list, at := c.IKE, c.IKEAt
	if kind == crypto.ESP {
		list, at = c.ESP, c.ESPAt
	}
	for i, p := range list {
		if i < len(at) && keyword != "" && strings.Contains(p, keyword) {
			return at[i]
		}
	}
	if len(at) > 0 {
		return at[0]
	}
	return diag.Pos{}
}

func (l *linter) cryptoRefPos(tunnelAt diag.Pos) diag.Pos {
	if l.file == nil {
		return tunnelAt
	}
	for _, d := range l.file.Tunnels {
		if d.At == tunnelAt && d.Crypto.Set {
			return d.Crypto.At
		}
	}
	if l.file.Defaults.Crypto.Set {
		return l.file.Defaults.Crypto.At
	}
	return tunnelAt
}

// secrets checks PSK strength, reuse across tunnels and inline secrets.
func (l *linter) secrets() {
	type firstUse struct {
		tunnel string
		at     diag.Pos
	}
	bySource := map[string]firstUse{}
	byValue := map[[32]byte]firstUse{}
	checked := map[string]bool{}
	for _, t := range l.net.Tunnels {
		s := t.Auth.PSK
		if s == nil {
			continue
		}
		src := s.File + "\x00" + s.Env + "\x00" + s.Value
		if s.Value != "" && !checked[src] {
			l.add(diag.Warning, s.At, RulePSKInline, "fine for a lab; for real gateways use {file: ...} (mode 0600) or {env: ...}",
				"tunnel %s: the pre-shared key is written in the topology file", t.Name)
		}
		if first, ok := bySource[src]; ok {
			l.add(diag.Warning, s.At, RulePSKReused, "use one random key per tunnel, e.g. psk: {file: \"secrets/{tunnel}.psk\"}; a shared key lets any site impersonate the others",
				"tunnel %s uses the same pre-shared key (%s) as tunnel %s", t.Name, s.Source(), first.tunnel)
			continue
		}
		bySource[src] = firstUse{t.Name, s.At}
		value, err := l.readSecret(s)
		if err != nil {
			if !checked[src] {
				l.add(diag.Info, s.At, RuleSecretMissing, "create it before styx render/apply (e.g. openssl rand -base64 33), or run styx check where the secrets are",
					"tunnel %s: %s: strength not checked", t.Name, err)
			}
			checked[src] = true
			continue
		}
		checked[src] = true
		sum := sha256.Sum256(value)
		if first, ok := byValue[sum]; ok {
			l.add(diag.Warning, s.At, RulePSKReused, "use one random key per tunnel; a shared key lets any site impersonate the others",
				"tunnel %s has the same pre-shared key as tunnel %s", t.Name, first.tunnel)
		} else {
			byValue[sum] = firstUse{t.Name, s.At}
		}
		for _, f := range crypto.CheckPSK(string(value), l.profile) {
			l.add(severityFor(f.Severity), s.At, f.Rule, f.Hint, "tunnel %s: %s", t.Name, f.Message)
		}
	}
	for _, ra := range l.net.RemoteAccess {
		for _, u := range ra.Users {
			if u.Password == nil {
				continue
			}
			if u.Password.Value != "" {
				l.add(diag.Warning, u.Password.At, RulePSKInline, "use {file: ...} or {env: ...}",
					"remote access %s: the password of user %s is written in the topology file", ra.Name, u.Name)
				continue
			}
			if _, err := l.readSecret(u.Password); err != nil {
				l.add(diag.Info, u.Password.At, RuleSecretMissing, "provide it before styx render/apply",
					"remote access %s, user %s: %s", ra.Name, u.Name, err)
			}
		}
	}
}

func (l *linter) readSecret(s *topology.Secret) ([]byte, error) {
	if s.Value != "" {
		return []byte(s.Value), nil
	}
	if l.opts.Secrets == nil {
		return nil, fmt.Errorf("%s not read", s.Source())
	}
	v, err := l.opts.Secrets.ReadSecret(s)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s is not available here", s.Source())
		}
		return nil, fmt.Errorf("%s: %v", s.Source(), err)
	}
	return v, nil
}
