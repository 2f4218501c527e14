package importer

import (
	"fmt"
	"slices"
	"strings"

	"github.com/styx-vpn/styx/internal/crypto"
)

// secretsReport finds the secret every conn uses (as strongSwan would),
// and reports missing, ambiguous, weak, reused and unused secrets. No
// message contains a secret value.
func (r *Result) secretsReport() {
	imp := r.imp
	haveFile := imp.opts.Secrets != ""
	usedBy := map[*SecretEntry][]*ikeConn{}
	needPSK := false
	for _, ic := range imp.conns {
		p := ic.params
		psk := p.local[0].auth == "psk" || p.remote[0].auth == "psk"
		if !psk {
			continue
		}
		needPSK = true
		if !haveFile {
			continue
		}
		best, tie := bestSecret(imp.secrets.Entries, []string{SecretPSK}, ic.localID, ic.remoteID)
		at := ic.first.sec.Pos
		if best == nil {
			imp.report.add(Item{Pos: at, Severity: Warning, Category: CatSecrets, Conn: ic.first.name,
				Message: fmt.Sprintf("no PSK in %s matches the identities %s and %s: the connection cannot authenticate", imp.opts.Secrets, orAny(ic.localID), orAny(ic.remoteID)),
				Hint:    "add a line `" + orAny(ic.localID) + " " + orAny(ic.remoteID) + " : PSK 0s<base64>` (openssl rand -base64 33)"})
			continue
		}
		ic.psk = best
		usedBy[best] = append(usedBy[best], ic)
		imp.report.add(Item{Pos: at, Severity: Info, Category: CatSecrets, Conn: ic.first.name,
			Message: fmt.Sprintf("uses the PSK at %s (secrets.%s) for %s <-> %s", best.Pos, r.secretOf[best].Name, orAny(ic.localID), orAny(ic.remoteID))})
		if tie {
			imp.report.add(Item{Pos: at, Severity: Warning, Category: CatSecrets, Conn: ic.first.name,
				Message: fmt.Sprintf("several different PSKs match %s <-> %s equally well; which one strongSwan uses depends on the load order", orAny(ic.localID), orAny(ic.remoteID)),
				Hint:    "give each secret the exact pair of identities"})
		}
		for _, id := range best.IDs {
			if parseIdent(id).typ == "any" {
				imp.report.add(Item{Pos: best.Pos, Severity: Warning, Category: CatSecrets, Conn: ic.first.name,
					Message: "the PSK it uses has a %any selector, so any peer that knows it can authenticate as any identity",
					Hint:    "use one random PSK per pair of identities, or certificates / EAP with a server certificate"})
				break
			}
		}
	}
	if needPSK && !haveFile {
		imp.report.add(Item{Pos: Pos{File: imp.opts.Conf}, Severity: Warning, Category: CatSecrets,
			Message: "conns authenticate with pre-shared keys, but no --secrets file was given: the secrets file has no keys",
			Hint:    "pass --secrets /etc/ipsec.secrets"})
	}
	for e, ics := range usedBy {
		remotes := map[ident]bool{}
		var peers []string
		for _, ic := range ics {
			remotes[parseIdent(ic.remoteID)] = true
			peers = append(peers, fmt.Sprintf("%s (%s)", ic.name, orAny(ic.remoteID)))
		}
		if len(remotes) < 2 {
			continue
		}
		slices.Sort(peers)
		imp.report.add(Item{Pos: e.Pos, Severity: Warning, Category: CatSecrets,
			Message: fmt.Sprintf("this PSK is used for several peers: %s; one of them can impersonate the others", strings.Join(peers, ", ")),
			Hint:    "give every pair of gateways its own random key"})
	}
	// the same value in several entries
	var shared []*SecretEntry
	for _, e := range imp.secrets.Entries {
		if e.Type == SecretPSK {
			shared = append(shared, e)
		}
	}
	reported := map[*SecretEntry]bool{}
	for i, e := range shared {
		if reported[e] {
			continue
		}
		var same []string
		for _, o := range shared[i+1:] {
			if string(o.Value) == string(e.Value) && !slices.Equal(o.IDs, e.IDs) {
				same = append(same, fmt.Sprintf("%s (%s)", o.Pos, idsOrAny(o.IDs)))
				reported[o] = true
			}
		}
		if len(same) > 0 {
			imp.report.add(Item{Pos: e.Pos, Severity: Warning, Category: CatSecrets,
				Message: fmt.Sprintf("the PSK for %s is reused at %s", idsOrAny(e.IDs), strings.Join(same, ", ")),
				Hint:    "give every pair of gateways its own random key (openssl rand -base64 33)"})
		}
	}
	for _, e := range imp.secrets.Entries {
		if e.Type != SecretPSK {
			continue
		}
		for _, f := range crypto.CheckPSK(pskInput(e), imp.opts.Profile) {
			sev := Warning
			if f.Severity == crypto.Info {
				sev = Info
			}
			imp.report.add(Item{Pos: e.ValuePos, Severity: sev, Category: CatSecrets,
				Message: fmt.Sprintf("PSK for %s: %s [%s, %s]", idsOrAny(e.IDs), f.Message, f.Rule, f.Severity), Hint: f.Hint})
		}
		if len(usedBy[e]) == 0 && haveFile {
			imp.report.add(Item{Pos: e.Pos, Severity: Info, Category: CatSecrets,
				Message: fmt.Sprintf("the PSK for %s is not used by any converted conn; it is kept (secrets.%s)", idsOrAny(e.IDs), r.secretOf[e].Name)})
		}
	}
}

func orAny(s string) string {
	if s == "" {
		return "%any"
	}
	return s
}

func idsOrAny(ids []string) string {
	if len(ids) == 0 {
		return "%any"
	}
	return strings.Join(ids, " ")
}
