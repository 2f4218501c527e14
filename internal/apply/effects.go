package apply

import (
	"context"

	govici "github.com/strongswan/govici/vici"
)

// Kind is a kind of object charon keeps.
type Kind string

// Kinds of charon objects.
const (
	Conn   Kind = "conn"
	Shared Kind = "shared"
	Pool   Kind = "pool"
)

// Store is charon as apply sees it (implemented over VICI by ViciStore).
type Store interface {
	// Names lists the loaded objects of a kind.
	Names(ctx context.Context, kind Kind) ([]string, error)
	// Load loads or replaces an object.
	Load(ctx context.Context, kind Kind, name string, msg *govici.Message) error
	// Unload removes an object.
	Unload(ctx context.Context, kind Kind, name string) error
}

// Credentials loads certificates and keys into charon.
type Credentials interface {
	LoadCert(ctx context.Context, der []byte, flag string) error
	LoadKey(ctx context.Context, typ string, der []byte) error
}

// Firewall owns the styx nftables table.
type Firewall interface {
	// Current returns the live table as `nft list` prints it, and whether
	// it exists.
	Current(ctx context.Context) ([]byte, bool, error)
	// Load applies a ruleset file atomically (nft -f).
	Load(ctx context.Context, ruleset []byte) error
	// Remove deletes the styx table.
	Remove(ctx context.Context) error
}

// Sysctls reads and writes kernel parameters.
type Sysctls interface {
	Get(ctx context.Context, key string) (string, error)
	Set(ctx context.Context, key, value string) error
}

// Runner runs a command (ip ...) in the gateway's context.
type Runner interface {
	Run(ctx context.Context, argv ...string) ([]byte, error)
}

// Router is the BGP daemon (BIRD 2) and the configuration file it runs
// with.
type Router interface {
	// Current returns the configuration file, and whether it exists.
	Current(ctx context.Context) ([]byte, bool, error)
	// Load checks conf, installs it as the configuration file and makes
	// the daemon use it (birdc configure). When it fails, the file is as
	// it was.
	Load(ctx context.Context, conf []byte) error
}
