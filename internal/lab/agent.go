package lab

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"
)

// SinkPort is the UDP port on which every lab host records what it
// receives (used to prove that spoofed packets do not arrive).
const SinkPort = 9999

// EchoPort is the UDP echo port of every lab host (continuous probes).
const EchoPort = 9998

// Serve runs the lab services of a host until ctx ends: for each listen
// entry ("tcp/8080", "http/8080", "udp/53") a TCP server answering one
// HTTP-like line or a UDP echo, plus the UDP sink that appends every
// datagram it receives to sinkPath.
func Serve(ctx context.Context, name string, listen []string, sinkPath string) error {
	errc := make(chan error, len(listen)+1)
	for _, l := range listen {
		proto, port, ok := strings.Cut(l, "/")
		if !ok {
			return fmt.Errorf("listen %q: want proto/port", l)
		}
		switch proto {
		case "tcp", "http", "https":
			ln, err := net.Listen("tcp", ":"+port)
			if err != nil {
				return err
			}
			go func() { <-ctx.Done(); ln.Close() }()
			go func() { errc <- serveTCP(ln, name) }()
		case "udp", "dns":
			pc, err := net.ListenPacket("udp", ":"+port)
			if err != nil {
				return err
			}
			go func() { <-ctx.Done(); pc.Close() }()
			go func() { errc <- echoUDP(pc) }()
		default:
			return fmt.Errorf("listen %q: unknown protocol", l)
		}
	}
	echo, err := net.ListenPacket("udp", fmt.Sprintf(":%d", EchoPort))
	if err != nil {
		return err
	}
	go func() { <-ctx.Done(); echo.Close() }()
	go func() { errc <- echoUDP(echo) }()
	sink, err := net.ListenPacket("udp", fmt.Sprintf(":%d", SinkPort))
	if err != nil {
		return err
	}
	go func() { <-ctx.Done(); sink.Close() }()
	go func() { errc <- runSink(sink, sinkPath) }()
	select {
	case <-ctx.Done():
		return nil
	case err := <-errc:
		return err
	}
}

func serveTCP(ln net.Listener, name string) error {
	for {
		c, err := ln.Accept()
		if err != nil {
			return nil
		}
		go func() {
			defer c.Close()
			c.SetDeadline(time.Now().Add(5 * time.Second))
			line, _ := bufio.NewReader(c).ReadString('\n')
			body := fmt.Sprintf("styx-lab %s from %s: %s\n", name, c.RemoteAddr(), strings.TrimSpace(line))
			fmt.Fprintf(c, "HTTP/1.0 200 OK\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
		}()
	}
}

func echoUDP(pc net.PacketConn) error {
	buf := make([]byte, 65535)
	for {
		n, addr, err := pc.ReadFrom(buf)
		if err != nil {
			return nil
		}
		pc.WriteTo(buf[:n], addr)
	}
}

func runSink(pc net.PacketConn, path string) error {
	buf := make([]byte, 65535)
	for {
		n, addr, err := pc.ReadFrom(buf)
		if err != nil {
			return nil
		}
		f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err == nil {
			fmt.Fprintf(f, "%s %q\n", addr, buf[:n])
			f.Close()
		}
	}
}

// Probe connects to target ("10.0.0.2:8080/tcp" or ".../udp"), sends a
// request carrying marker and waits for the answer. It returns nil when
// the service answered.
func Probe(target, marker string, timeout time.Duration) error {
	addr, proto, ok := strings.Cut(target, "/")
	if !ok {
		proto = "tcp"
	}
	switch proto {
	case "tcp":
		c, err := net.DialTimeout("tcp", addr, timeout)
		if err != nil {
			return err
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(timeout))
		if _, err := fmt.Fprintf(c, "GET /%s HTTP/1.0\r\n\r\n", marker); err != nil {
			return err
		}
		b, err := io.ReadAll(c)
		if err != nil && len(b) == 0 {
			return err
		}
		if !strings.HasPrefix(string(b), "HTTP/1.0 200") {
			return fmt.Errorf("unexpected answer %q", b)
		}
		return nil
	case "udp":
		c, err := net.Dial("udp", addr)
		if err != nil {
			return err
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(timeout))
		if _, err := c.Write([]byte(marker)); err != nil {
			return err
		}
		buf := make([]byte, 2048)
		n, err := c.Read(buf)
		if err != nil {
			return err
		}
		if string(buf[:n]) != marker {
			return errors.New("udp echo mismatch")
		}
		return nil
	}
	return fmt.Errorf("probe: unknown protocol %q", proto)
}

// Request sends one HTTP-like request to a TCP service and returns the
// first line of the answer's body.
func Request(target string, timeout time.Duration) (string, error) {
	addr, _, _ := strings.Cut(target, "/")
	c, err := net.DialTimeout("tcp", addr, timeout)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(timeout))
	fmt.Fprintf(c, "GET / HTTP/1.0\r\n\r\n")
	b, err := io.ReadAll(c)
	if err != nil && len(b) == 0 {
		return "", err
	}
	_, body, _ := strings.Cut(string(b), "\r\n\r\n")
	return strings.TrimSpace(body), nil
}

// Ping sends a numbered UDP datagram to an echo port every interval for
// duration, on each of flows sockets (distinct source ports and IPv6 flow
// labels: distinct flows for ECMP hashing), and counts the distinct
// answers; answers may arrive late (up to one second after the last
// probe): loss, not latency, is measured.
func Ping(target string, interval, duration time.Duration, flows int) (sent, received int, err error) {
	flows = max(flows, 1)
	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	for range flows {
		c, err := net.Dial("udp", target)
		if err != nil {
			return 0, 0, err
		}
		conns = append(conns, c)
	}
	var mu sync.Mutex
	got := map[string]bool{}
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			buf := make([]byte, 64)
			for {
				n, err := c.Read(buf)
				if err != nil {
					if ne, ok := err.(net.Error); ok && ne.Timeout() {
						return
					}
					if errors.Is(err, net.ErrClosed) {
						return
					}
					time.Sleep(10 * time.Millisecond) // e.g. ICMP unreachable while a tunnel is down
					continue
				}
				mu.Lock()
				got[string(buf[:n])] = true
				mu.Unlock()
			}
		}()
	}
	end := time.Now().Add(duration)
	for i := 0; time.Now().Before(end); i++ {
		t0 := time.Now()
		for f, c := range conns {
			c.Write([]byte(fmt.Sprintf("styx-ping %d-%d", f, i)))
			sent++
		}
		time.Sleep(time.Until(t0.Add(interval)))
	}
	for _, c := range conns {
		c.SetReadDeadline(time.Now().Add(time.Second))
	}
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	return sent, len(got), nil
}

// Spoof sends one IPv4 UDP datagram with an arbitrary source address
// (a raw socket), e.g. a source inside a remote protected prefix.
func Spoof(src, dst netip.Addr, port uint16, payload []byte) error {
	if !src.Is4() || !dst.Is4() {
		return errors.New("spoof: IPv4 only")
	}
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_RAW, syscall.IPPROTO_RAW)
	if err != nil {
		return fmt.Errorf("spoof: raw socket: %w", err)
	}
	defer syscall.Close(fd)
	udpLen := 8 + len(payload)
	pkt := make([]byte, 20+udpLen)
	pkt[0] = 0x45
	binary.BigEndian.PutUint16(pkt[2:], uint16(len(pkt)))
	pkt[8] = 64
	pkt[9] = syscall.IPPROTO_UDP
	s4, d4 := src.As4(), dst.As4()
	copy(pkt[12:16], s4[:])
	copy(pkt[16:20], d4[:])
	binary.BigEndian.PutUint16(pkt[10:], checksum(pkt[:20]))
	binary.BigEndian.PutUint16(pkt[20:], 40000)
	binary.BigEndian.PutUint16(pkt[22:], port)
	binary.BigEndian.PutUint16(pkt[24:], uint16(udpLen))
	copy(pkt[28:], payload)
	sa := &syscall.SockaddrInet4{Addr: d4}
	return syscall.Sendto(fd, pkt, 0, sa)
}

func checksum(b []byte) uint16 {
	var s uint32
	for i := 0; i+1 < len(b); i += 2 {
		s += uint32(b[i])<<8 | uint32(b[i+1])
	}
	for s > 0xffff {
		s = s>>16 + s&0xffff
	}
	return ^uint16(s)
}
