package lab

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/netip"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/styx-vpn/styx/internal/netns"
	"github.com/styx-vpn/styx/internal/plan"
)

// McastGroup and McastPort are where the lab's multicast probe goes: a
// group of the organisation-local scope (RFC 2365).
var McastGroup = netip.MustParseAddr("239.255.77.1")

// McastPort is the UDP port of the multicast probe.
const McastPort = 9997

// McastListen joins group on interface ifname, waits up to d and returns
// the distinct payloads received.
func McastListen(ifname string, group netip.Addr, port int, d time.Duration) ([]string, error) {
	ifi, err := net.InterfaceByName(ifname)
	if err != nil {
		return nil, err
	}
	c, err := net.ListenMulticastUDP("udp4", ifi, &net.UDPAddr{IP: group.AsSlice(), Port: port})
	if err != nil {
		return nil, err
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(d))
	seen := map[string]bool{}
	var out []string
	buf := make([]byte, 1500)
	for {
		n, _, err := c.ReadFromUDP(buf)
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				return out, nil
			}
			return out, err
		}
		if p := string(buf[:n]); !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
}

// McastSend sends payload to group count times, every interval, out of
// interface ifname (IP_MULTICAST_IF on an unconnected socket: connect
// would route the group by the routing table, i.e. the default route).
func McastSend(ifname string, group netip.Addr, port int, payload []byte, count int, interval time.Duration) error {
	ifi, err := net.InterfaceByName(ifname)
	if err != nil {
		return err
	}
	c, err := net.ListenUDP("udp4", nil)
	if err != nil {
		return err
	}
	defer c.Close()
	raw, err := c.SyscallConn()
	if err != nil {
		return err
	}
	var serr error
	err = raw.Control(func(fd uintptr) {
		serr = syscall.SetsockoptIPMreqn(int(fd), syscall.IPPROTO_IP, syscall.IP_MULTICAST_IF, &syscall.IPMreqn{Ifindex: int32(ifi.Index)})
	})
	if err == nil {
		err = serr
	}
	if err != nil {
		return fmt.Errorf("IP_MULTICAST_IF %s: %w", ifname, err)
	}
	to := &net.UDPAddr{IP: group.AsSlice(), Port: port}
	for i := range count {
		if i > 0 {
			time.Sleep(interval)
		}
		if _, err := c.WriteToUDP(payload, to); err != nil {
			return err
		}
	}
	return nil
}

// greMcast is one GRE tunnel with multicast between two lab gateways.
type greMcast struct {
	tunnel, child string
	from, to      *Node
	fromDev       string
	toDev         string
}

// greMcastPaths lists the multicast GRE tunnels of the lab: both ends'
// devices as plan.Links names them.
func (t *Tester) greMcastPaths() []greMcast {
	var out []greMcast
	for _, tun := range t.Net.Tunnels {
		for _, ch := range tun.Children {
			if ch.GRE == nil || !ch.GRE.Multicast {
				continue
			}
			var devs [2]string
			for i, e := range tun.Ends {
				gw, err := plan.Build(t.Net, e.Gateway.Name, plan.Options{External: true})
				if err != nil || len(ch.TS[i]) == 0 {
					continue
				}
				for _, l := range gw.Links {
					if l.Kind == "gre" && l.Local == ch.TS[i][0].Prefix.Addr() {
						devs[i] = l.Name
					}
				}
			}
			a, b := t.State.Node(tun.Ends[0].Gateway.Name), t.State.Node(tun.Ends[1].Gateway.Name)
			if devs[0] == "" || devs[1] == "" || a == nil || b == nil {
				continue
			}
			out = append(out, greMcast{tunnel: tun.Name, child: ch.Name, from: a, to: b, fromDev: devs[0], toDev: devs[1]})
		}
	}
	return out
}

// multicast sends a marked datagram to a multicast group over a GRE
// tunnel and requires that the other end receives it, and that it crossed
// the internet encrypted.
func (t *Tester) multicast(ctx context.Context, m greMcast) (r Result) {
	t0 := time.Now()
	r = Result{Name: fmt.Sprintf("multicast %s -> %s over GRE %s/%s", m.from.Name, m.to.Name, m.tunnel, m.child), Kind: "multicast"}
	defer func() { r.Seconds = time.Since(t0).Seconds() }()
	capture, err := startCapture(ctx, t.State.Node("internet").NS, filepath.Join(t.Dir, "capture-mcast.pcap"))
	if err != nil {
		r.Detail = err.Error()
		return r
	}
	defer capture.remove()
	mark := marker()
	type listened struct {
		out []byte
		err error
	}
	got := make(chan listened, 1)
	go func() {
		out, err := netns.Run(ctx, m.to.NS, t.Agent, "lab-agent", "mcast-listen", "--iface", m.toDev, "--group", McastGroup.String(), "--port", fmt.Sprint(McastPort), "--duration", "4s")
		got <- listened{out, err}
	}()
	time.Sleep(time.Second) // the listener joins the group
	_, serr := netns.Run(ctx, m.from.NS, t.Agent, "lab-agent", "mcast-send", "--iface", m.fromDev, "--group", McastGroup.String(), "--port", fmt.Sprint(McastPort), "--payload", mark, "--count", "5")
	l := <-got
	pcap, esp, cerr := capture.stop(ctx)
	switch {
	case serr != nil:
		r.Detail = "sending: " + serr.Error()
	case l.err != nil:
		r.Detail = "listening: " + l.err.Error()
	case !strings.Contains(string(l.out), mark):
		r.Detail = fmt.Sprintf("%s did not receive the datagrams sent to %s on %s", m.to.Name, McastGroup, m.toDev)
	case cerr != nil:
		r.Detail = "capture: " + cerr.Error()
	case bytes.Contains(pcap, []byte(mark)):
		r.Detail = "the multicast datagrams crossed the internet in clear"
	case esp == 0:
		r.Detail = "no ESP or UDP/4500 packets on the wire"
	default:
		r.Pass = true
		r.Detail = fmt.Sprintf("%s %s -> %s received on %s; on the wire: %d ESP/UDP-4500 packets, marker never in clear", McastGroup, m.fromDev, m.toDev, m.to.Name, esp)
	}
	return r
}
