package importer

import (
	"net/netip"
	"strings"
)

// ident is an IKE identity as strongSwan's identification_create_from_string
// classifies it, normalised for comparison.
type ident struct {
	typ string // any, ip, fqdn, email, dn, keyid
	val string
}

// ID match levels (identification.h).
const (
	matchNone    = 0
	matchAny     = 1
	matchOneWild = 19
	matchPerfect = 20
)

func parseIdent(s string) ident {
	switch {
	case s == "" || s == "%any" || s == "%any6" || s == "0.0.0.0" || s == "::":
		return ident{typ: "any"}
	case strings.HasPrefix(s, "@#"):
		return ident{typ: "keyid", val: strings.ToLower(s[2:])}
	case strings.HasPrefix(s, "@@"):
		return ident{typ: "email", val: strings.ToLower(s[2:])}
	case strings.HasPrefix(s, "@"):
		return ident{typ: "fqdn", val: strings.ToLower(s[1:])}
	case strings.Contains(s, "="):
		return ident{typ: "dn", val: normDN(s)}
	case strings.Contains(s, "@"):
		return ident{typ: "email", val: strings.ToLower(s)}
	}
	if a, err := netip.ParseAddr(s); err == nil {
		return ident{typ: "ip", val: a.Unmap().String()}
	}
	return ident{typ: "fqdn", val: strings.ToLower(s)}
}

// normDN normalises "C=CH, O=example, CN=gw" and "C=CH,O=example,CN=gw"
// (and the /C=CH/O=... form) to the same string.
func normDN(s string) string {
	sep := ","
	if strings.HasPrefix(s, "/") {
		s, sep = s[1:], "/"
	}
	parts := strings.Split(s, sep)
	for i, p := range parts {
		k, v, _ := strings.Cut(strings.TrimSpace(p), "=")
		parts[i] = strings.ToUpper(strings.TrimSpace(k)) + "=" + strings.TrimSpace(v)
	}
	return strings.Join(parts, ",")
}

// matches returns how well pattern (a secret's owner) matches id.
func (pattern ident) matches(id ident) int {
	if pattern.typ == "any" {
		return matchAny
	}
	if pattern.typ != id.typ {
		return matchNone
	}
	if pattern.val == id.val {
		return matchPerfect
	}
	if strings.Contains(pattern.val, "*") {
		switch pattern.typ {
		case "fqdn", "email":
			if strings.HasPrefix(pattern.val, "*") && strings.HasSuffix(id.val, pattern.val[1:]) {
				return matchOneWild
			}
		case "dn":
			pp, ip := strings.Split(pattern.val, ","), strings.Split(id.val, ",")
			if len(pp) != len(ip) {
				return matchNone
			}
			wild := 0
			for i := range pp {
				k, v, _ := strings.Cut(pp[i], "=")
				ik, iv, _ := strings.Cut(ip[i], "=")
				if k != ik || (v != iv && v != "*") {
					return matchNone
				}
				if v == "*" {
					wild++
				}
			}
			return matchPerfect - wild
		}
	}
	return matchNone
}

// bestSecret picks the shared secret of type typ strongSwan would use for
// the identities me and other (credential_manager get_shared: best remote
// match first, then best local match; the first of equals wins). It also
// reports whether another secret matched equally well.
func bestSecret(entries []*SecretEntry, types []string, me, other string) (best *SecretEntry, tie bool) {
	mi, oi := parseIdent(me), parseIdent(other)
	bestMe, bestOther := matchNone, matchNone
	for _, e := range entries {
		ok := false
		for _, t := range types {
			ok = ok || e.Type == t
		}
		if !ok {
			continue
		}
		owners := e.IDs
		if len(owners) == 0 {
			owners = []string{"%any"}
		}
		m, o := matchNone, matchNone
		for _, ow := range owners {
			p := parseIdent(ow)
			m = max(m, p.matches(mi))
			o = max(o, p.matches(oi))
		}
		if m == matchNone && o == matchNone {
			continue
		}
		switch {
		case best == nil || o > bestOther || (o == bestOther && m > bestMe):
			best, bestMe, bestOther, tie = e, m, o, false
		case o == bestOther && m == bestMe && string(e.Value) != string(best.Value):
			tie = true
		}
	}
	return best, tie
}
