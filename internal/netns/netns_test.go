package netns

import (
	"context"
	"os"
	"strings"
	"testing"
)

// TestDo reads a sysctl inside a fresh namespace through Do and checks
// that the calling thread is back in its own namespace afterwards.
func TestDo(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("skipping: needs root (network namespaces)")
	}
	ctx := context.Background()
	ns := TempName("do")
	if err := Add(ctx, ns); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { Delete(context.Background(), ns) })
	self, _ := os.Readlink("/proc/thread-self/ns/net")
	const key = "/proc/sys/net/ipv4/ip_forward"
	var inside string
	err := Do(ns, func() error {
		if err := os.WriteFile(key, []byte("1"), 0o644); err != nil {
			return err
		}
		b, err := os.ReadFile(key)
		inside = strings.TrimSpace(string(b))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if inside != "1" {
		t.Errorf("ip_forward inside %s = %q after writing 1", ns, inside)
	}
	out, err := Run(ctx, ns, "cat", key)
	if err != nil || strings.TrimSpace(string(out)) != "1" {
		t.Errorf("seen from a process in %s: %q %v", ns, out, err)
	}
	if now, _ := os.Readlink("/proc/thread-self/ns/net"); now != self {
		t.Errorf("thread left in %s, was %s", now, self)
	}
	if err := Do("styx-no-such-namespace", func() error { return nil }); err == nil {
		t.Error("Do in a missing namespace: no error")
	}
}
