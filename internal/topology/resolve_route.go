package topology

import (
	"fmt"
	"hash/fnv"
	"net/netip"
	"slices"
	"strings"

	"github.com/styx-vpn/styx/internal/diag"
)

// routeReq is what a route-based tunnel asked for: an explicit interface
// id, explicit interface addresses, or transfer prefixes to number from.
type routeReq struct {
	id       Int
	addrs    [2]netip.Prefix
	transfer []netip.Prefix
	// transferAt is where the transfer prefixes were written (the tunnel's
	// transfer: or defaults.transfer), for errors about the pool.
	transferAt diag.Pos
}

type routeReqFor struct {
	t   *Tunnel
	req *routeReq
}

func hash32(s string) uint32 {
	h := fnv.New32a()
	h.Write([]byte(s))
	return h.Sum32()
}

// allocateInterfaces numbers the tunnel interfaces of route-based tunnels.
// Interface ids (if_id, VTI key) are per gateway; they and the transfer
// addresses are derived from a hash of the tunnel name with linear probing
// in tunnel-name order. The result depends only on the set of tunnels, not
// on the file's order. Adding a tunnel keeps the others' numbers unless its
// hash lands on a slot another tunnel holds and its name sorts first: then
// it takes the slot and the other tunnel moves on to the next free one.
// Explicit ids and addresses never move. A transfer prefix too small for a
// pair, or with no free pair left, is an error.
func (r *resolver) allocateInterfaces() {
	// allocate in tunnel-name order, so that the file's order never matters
	slices.SortFunc(r.routeReqs, func(a, b routeReqFor) int { return strings.Compare(a.t.Name, b.t.Name) })
	used := map[*Gateway]map[uint32]bool{}
	// explicit ids first, so that hashed ones avoid them
	for _, rr := range r.routeReqs {
		if !rr.req.id.Set {
			continue
		}
		if rr.req.id.V < 1 || rr.req.id.V > 0xfffffffe {
			r.errorf(rr.req.id.At, RuleValue, "if_id/mark 0 means \"no interface\"; use 1-4294967294", "invalid interface id %d", rr.req.id.V)
			continue
		}
		for i := range rr.t.Ends {
			g := rr.t.Ends[i].Gateway
			if used[g] == nil {
				used[g] = map[uint32]bool{}
			}
			id := uint32(rr.req.id.V)
			if used[g][id] {
				r.errorf(rr.req.id.At, RuleDupName, "give each route-based tunnel of a gateway its own id, or leave id out to have one allocated", "interface id %d is used twice on gateway %s", id, g.Name)
			}
			used[g][id] = true
			rr.t.Ends[i].IfID = id
		}
	}
	for _, rr := range r.routeReqs {
		if rr.req.id.Set {
			continue
		}
		for i := range rr.t.Ends {
			g := rr.t.Ends[i].Gateway
			if used[g] == nil {
				used[g] = map[uint32]bool{}
			}
			id := hash32(rr.t.Name)%0xfff0 + 1
			for used[g][id] {
				id = id%0xfff0 + 1
			}
			used[g][id] = true
			rr.t.Ends[i].IfID = id
		}
	}
	// transfer addresses
	taken := map[netip.Prefix]bool{}
	usedAddr := map[netip.Addr]string{}
	for _, rr := range r.routeReqs {
		for i, p := range rr.req.addrs {
			if p.IsValid() {
				rr.t.Ends[i].IfAddr = p
				taken[p.Masked()] = true
				if other, dup := usedAddr[p.Addr()]; dup {
					r.errorf(rr.req.id.At, RuleDupName, "in a hub or mesh block, give addresses per tunnel (separate between: blocks) or use transfer: to number them", "interface address %s is used by tunnels %s and %s", p.Addr(), other, rr.t.Name)
				}
				usedAddr[p.Addr()] = rr.t.Name
			}
		}
	}
	for _, rr := range r.routeReqs {
		if rr.t.Ends[0].IfAddr.IsValid() || rr.t.Ends[1].IfAddr.IsValid() || len(rr.req.transfer) == 0 {
			continue
		}
		pool := rr.req.transfer[0]
		bits := 31
		if pool.Addr().Is6() {
			bits = 127
		}
		if pool.Bits() > bits {
			r.errorf(rr.req.transferAt, RulePrefix, fmt.Sprintf("use a /%d or shorter prefix", bits),
				"transfer prefix %s is too small for the two interface addresses of tunnel %s (a /%d)", pool, rr.t.Name, bits)
			continue
		}
		n := uint64(1) << min(uint(bits-pool.Bits()), 32)
		idx := uint64(hash32(rr.t.Name)) % n
		found := false
		for tries := uint64(0); tries < n && !found; tries++ {
			sub := nthSubnet(pool, bits, (idx+tries)%n)
			if !taken[sub] {
				taken[sub] = true
				rr.t.Ends[0].IfAddr = netip.PrefixFrom(sub.Addr(), bits)
				rr.t.Ends[1].IfAddr = netip.PrefixFrom(sub.Addr().Next(), bits)
				found = true
			}
		}
		if !found {
			r.errorf(rr.req.transferAt, RulePrefix, "use a larger transfer prefix, or give the tunnel its own transfer: or interface.addresses",
				"transfer prefix %s has no free /%d left for tunnel %s (it holds %d)", pool, bits, rr.t.Name, n)
		}
	}
}

// nthSubnet returns the n-th /bits subnet of pool.
func nthSubnet(pool netip.Prefix, bits int, n uint64) netip.Prefix {
	a := pool.Addr()
	// add n << (width-bits) to the address
	b := a.As16()
	shift := uint(a.BitLen() - bits)
	if a.Is4() {
		b4 := a.As4()
		v := uint32(b4[0])<<24 | uint32(b4[1])<<16 | uint32(b4[2])<<8 | uint32(b4[3])
		v += uint32(n) << shift
		return netip.PrefixFrom(netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}), bits)
	}
	// 128-bit add of n<<shift (shift >= 1 for /127)
	carry := n << shift
	hi := uint64(0)
	if shift > 0 && shift < 64 {
		hi = n >> (64 - shift)
	} else if shift >= 64 {
		hi, carry = n<<(shift-64), 0
	}
	lo := beUint64(b[8:]) + carry
	c := uint64(0)
	if lo < carry {
		c = 1
	}
	hiv := beUint64(b[:8]) + hi + c
	putBeUint64(b[:8], hiv)
	putBeUint64(b[8:], lo)
	return netip.PrefixFrom(netip.AddrFrom16(b), bits)
}

func beUint64(b []byte) uint64 {
	var v uint64
	for _, x := range b[:8] {
		v = v<<8 | uint64(x)
	}
	return v
}

func putBeUint64(b []byte, v uint64) {
	for i := 7; i >= 0; i-- {
		b[i] = byte(v)
		v >>= 8
	}
}
