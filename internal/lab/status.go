package lab

import (
	"context"
	"path/filepath"

	"github.com/styx-vpn/styx/internal/vici"
)

func listSAs(ctx context.Context, n *Node, ike string) ([]vici.IKESA, error) {
	c := vici.New(n.Socket())
	defer c.Close()
	return c.ListSAs(ctx, ike)
}

// Socket returns the VICI socket of a gateway node.
func (n *Node) Socket() string { return filepath.Join(n.Dir, "run", "charon.vici") }
