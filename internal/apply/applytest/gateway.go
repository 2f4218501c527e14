package applytest

import (
	"fmt"
	"io/fs"

	"github.com/styx-vpn/styx/internal/apply"
)

// Gateway is a whole fake gateway: charon, nftables, sysctls, a command
// runner and BIRD, with one log of every call in the order it was made.
type Gateway struct {
	Store    *Store
	Firewall *Firewall
	Sysctls  *Sysctls
	Runner   *Runner
	Bird     *Bird
	// Files are the certificate and key files the engine can read, by path.
	Files map[string][]byte

	log Log
}

// NewGateway returns a gateway with charon empty, no styx table and the
// sysctls at KernelDefaults.
func NewGateway() *Gateway {
	g := &Gateway{
		Store:    NewStore(),
		Firewall: NewFirewall(),
		Sysctls:  NewSysctls(KernelDefaults()),
		Runner:   NewRunner(),
		Bird:     NewBird(),
		Files:    map[string][]byte{},
	}
	g.Store.rec.shared = &g.log
	g.Firewall.rec.shared = &g.log
	g.Sysctls.rec.shared = &g.log
	g.Runner.rec.shared = &g.log
	g.Bird.rec.shared = &g.log
	return g
}

// Engine returns an engine acting on the gateway, keeping its state in
// stateDir.
func (g *Gateway) Engine(stateDir string) *apply.Engine {
	return &apply.Engine{
		Store:    g.Store,
		Creds:    g.Store,
		Firewall: g.Firewall,
		Sysctls:  g.Sysctls,
		Runner:   g.Runner,
		Router:   g.Bird,
		StateDir: stateDir,
		ReadFile: g.ReadFile,
	}
}

// ReadFile reads one of Files.
func (g *Gateway) ReadFile(path string) ([]byte, error) {
	if b, ok := g.Files[path]; ok {
		return b, nil
	}
	return nil, &fs.PathError{Op: "open", Path: path, Err: fs.ErrNotExist}
}

// Log returns the log of every call to any of the fakes.
func (g *Gateway) Log() *Log { return &g.log }

// String returns every recorded command, one per line, in call order.
func (g *Gateway) String() string { return g.log.String() }

// Mutations is String without the read-only commands.
func (g *Gateway) Mutations() string { return g.log.Mutations() }

// Reset forgets the recorded calls of the gateway and of every fake; the
// state (loaded objects, table, sysctls) stays.
func (g *Gateway) Reset() {
	g.log.Reset()
	g.Store.Reset()
	g.Firewall.Reset()
	g.Sysctls.Reset()
	g.Runner.Reset()
	g.Bird.Reset()
}

// Snapshot prints the gateway's state: what charon has loaded, the styx
// table and the sysctls. Two equal snapshots mean an equal gateway.
func (g *Gateway) Snapshot() string {
	return fmt.Sprintf("== charon\n%s== nftables\n%s== sysctl\n%s", g.Store.Snapshot(), g.Firewall.Snapshot(), g.Sysctls.Snapshot())
}
