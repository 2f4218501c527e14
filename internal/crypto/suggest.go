package crypto

import (
	"fmt"
	"github.com/styx-vpn/styx/internal/suggest"
	"sort"
	"strings"
	"sync"
)

// suggestions lists every keyword strongSwan 5.9.8 accepts, sorted, for
// did-you-mean hints. It is built on first use, after init filled keywords.
var suggestions = sync.OnceValue(func() []string {
	var out []string
	for name, k := range keywords {
		if !k.v6 {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
})

// unknownKeyword builds the message and hint for a token that is no keyword.
func unknownKeyword(tok string) (msg, hint string) {
	q := fmt.Sprintf("%q", tok)
	msg = fmt.Sprintf("%s is not a strongSwan %s keyword", q, TargetVersion)
	lower := strings.ToLower(tok)
	switch {
	case lower == "default":
		return fmt.Sprintf("%s must be a proposals list element of its own, not part of a proposal", q),
			"write it as a separate comma-separated entry; better, list explicit proposals only"
	case lower == "cast":
		return msg, `did you mean "cast128"? (it is weak: use aes256gcm16 or aes256 instead)`
	case lower == "modp512":
		return msg + " (there is no 512-bit MODP group)", "use ecp384 or curve25519"
	case strings.ContainsAny(tok, " \t,"):
		return msg, "separate keywords with '-' and proposals with ','"
	}
	if s := nearest(lower); s != "" {
		return msg, fmt.Sprintf("did you mean %q?", s)
	}
	return msg, "see the keyword list at docs.strongswan.org (config/proposals)"
}

// nearest returns the keyword closest to s by edit distance, if close
// enough: at most 1 edit for short words, 2 for words of 6 or more bytes.
func nearest(s string) string {
	if len(s) > 64 {
		return ""
	}
	limit := 1
	if len(s) >= 6 {
		limit = 2
	}
	best, bestD := "", limit+1
	for _, k := range suggestions() {
		if abs(len(k)-len(s)) > limit {
			continue
		}
		if d := suggest.Distance(s, k); d < bestD {
			best, bestD = k, d
		}
	}
	return best
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}
