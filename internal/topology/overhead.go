package topology

import (
	"fmt"
	"strings"
)

// Encapsulation is the per-packet overhead of a tunnel, in bytes, for the
// worst case of the proposals in use.
type Encapsulation struct {
	Outer   int // outer IP header: 20 (IPv4) or 40 (IPv6)
	UDP     int // 8 with NAT-T / UDP encapsulation
	ESP     int // SPI + sequence number: 8
	IV      int // 8 for AEAD (GCM, ChaCha20-Poly1305), 16 for AES-CBC
	Padding int // worst-case padding plus pad length and next header
	ICV     int // integrity check value
}

// Total returns the sum of all parts.
func (e Encapsulation) Total() int { return e.Outer + e.UDP + e.ESP + e.IV + e.Padding + e.ICV }

// String describes the parts, e.g. "ESP 73 (IPv4 20 + UDP 8 + ESP 8 + IV 8 + pad 5 + ICV 16)".
func (e Encapsulation) String() string {
	parts := []string{fmt.Sprintf("IPv%d %d", map[int]int{20: 4, 40: 6}[e.Outer], e.Outer)}
	if e.UDP > 0 {
		parts = append(parts, fmt.Sprintf("UDP %d", e.UDP))
	}
	parts = append(parts, fmt.Sprintf("ESP %d", e.ESP), fmt.Sprintf("IV %d", e.IV), fmt.Sprintf("pad %d", e.Padding), fmt.Sprintf("ICV %d", e.ICV))
	return fmt.Sprintf("ESP overhead %d (%s)", e.Total(), strings.Join(parts, " + "))
}

// Overhead computes the encapsulation overhead of tunnel t as sent by g to
// peer: IPv6 outer header if the peer is reached over IPv6, UDP
// encapsulation when the data plane is kernel-libipsec, encap is forced,
// or either end is behind NAT, and the largest IV/ICV/padding among the
// ESP proposals.
func Overhead(t *Tunnel, g, peer *Gateway) Encapsulation {
	e := Encapsulation{Outer: 20, ESP: 8, IV: 8, Padding: 5, ICV: 16}
	if len(peer.Public) > 0 && peer.Public[0].Is6() {
		e.Outer = 40
	}
	if t.Encap || g.Dataplane == Libipsec || peer.Dataplane == Libipsec || len(g.Local) > 0 || len(peer.Local) > 0 || g.Dynamic || peer.Dynamic {
		e.UDP = 8
	}
	if t.Crypto == nil {
		return e
	}
	for _, p := range t.Crypto.ESP {
		for _, tok := range strings.Split(p, "-") {
			switch {
			case strings.Contains(tok, "gcm") || strings.Contains(tok, "ccm") || strings.Contains(tok, "chacha20poly1305"):
				// AEAD: 8-byte IV, 4-byte alignment, 16-byte ICV
			case strings.HasPrefix(tok, "aes") || strings.HasPrefix(tok, "camellia"):
				if !strings.Contains(tok, "ctr") && !strings.Contains(tok, "xcbc") && !strings.Contains(tok, "cmac") && !strings.Contains(tok, "gmac") {
					e.IV, e.Padding = max(e.IV, 16), max(e.Padding, 17)
				}
			case tok == "3des":
				e.IV, e.Padding = max(e.IV, 8), max(e.Padding, 9)
			case tok == "sha384" || tok == "sha2_384":
				e.ICV = max(e.ICV, 24)
			case tok == "sha512" || tok == "sha2_512":
				e.ICV = max(e.ICV, 32)
			}
		}
	}
	return e
}

// GREOverhead is the GRE header plus its outer IPv4 header (24), plus 4
// with a key.
func GREOverhead(g *GRE) int {
	if g.Key != 0 {
		return 28
	}
	return 24
}
