package lab

import (
	"context"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/styx-vpn/styx/internal/netns"
)

// TestMcast sends to the lab's multicast group out of one end of a veth
// pair and receives on the other, in two throw-away namespaces.
func TestMcast(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("skipping: needs root (network namespaces)")
	}
	ctx := context.Background()
	a, b := netns.TempName("ma"), netns.TempName("mb")
	for _, ns := range []string{a, b} {
		if err := netns.Add(ctx, ns); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { netns.Delete(context.Background(), ns) })
	}
	for _, c := range [][]string{
		{"", "link", "add", "ma0", "netns", a, "type", "veth", "peer", "name", "mb0", "netns", b},
		{a, "addr", "add", "10.99.0.1/30", "dev", "ma0"},
		{b, "addr", "add", "10.99.0.2/30", "dev", "mb0"},
		{a, "link", "set", "ma0", "up", "multicast", "on"},
		{b, "link", "set", "mb0", "up", "multicast", "on"},
	} {
		if _, err := netns.Run(ctx, c[0], "ip", c[1:]...); err != nil {
			t.Fatal(err)
		}
	}
	got := make(chan []string, 1)
	go func() {
		var out []string
		err := netns.Do(b, func() (err error) {
			out, err = McastListen("mb0", McastGroup, McastPort, 2*time.Second)
			return err
		})
		if err != nil {
			t.Error(err)
		}
		got <- out
	}()
	time.Sleep(300 * time.Millisecond)
	err := netns.Do(a, func() error {
		return McastSend("ma0", McastGroup, McastPort, []byte("styx-mcast-test"), 3, 100*time.Millisecond)
	})
	if err != nil {
		t.Fatal(err)
	}
	if out := <-got; !slices.Equal(out, []string{"styx-mcast-test"}) {
		t.Errorf("received %q", out)
	}
}
