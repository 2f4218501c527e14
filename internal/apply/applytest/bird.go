package applytest

import (
	"context"
	"errors"
	"strings"
	"sync"

	"github.com/styx-vpn/styx/internal/apply"
)

// ErrBirdParse is what the fake's bird -p answers for a configuration
// containing the line "syntax error".
var ErrBirdParse = errors.New("bird.conf:1:1 syntax error")

// Bird is a BIRD daemon with its configuration file. It implements
// apply.Router and records
//
//	cat bird.conf        (Current, read-only)
//	bird -p              (Load checks the file: fails on a line "syntax error")
//	birdc configure      (Load; FailOnConfigure injects a refusal)
//
// Like the real Bird, a Load that fails leaves the file as it was.
type Bird struct {
	mu      sync.Mutex
	rec     recorder
	conf    string
	exists  bool
	running string // the configuration BIRD uses
	confs   []string
	fail    []error
}

var _ apply.Router = (*Bird)(nil)

// NewBird returns a BIRD without a configuration file.
func NewBird() *Bird { return &Bird{} }

// Current implements apply.Router.
func (b *Bird) Current(ctx context.Context) ([]byte, bool, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.rec.record(Call{Cmd: "cat bird.conf", ReadOnly: true})
	if !b.exists {
		return nil, false, nil
	}
	return []byte(b.conf), true, nil
}

// FailOnConfigure makes the next birdc configure fail with err.
func (b *Bird) FailOnConfigure(err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.fail = append(b.fail, err)
}

// Load implements apply.Router.
func (b *Bird) Load(ctx context.Context, conf []byte) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.confs = append(b.confs, string(conf))
	if strings.Contains(string(conf), "\nsyntax error\n") {
		b.rec.record(Call{Cmd: "bird -p", Err: ErrBirdParse})
		return ErrBirdParse
	}
	b.rec.record(Call{Cmd: "bird -p"})
	if len(b.fail) > 0 {
		err := b.fail[0]
		b.fail = b.fail[1:]
		b.rec.record(Call{Cmd: "birdc configure", Err: err})
		return err
	}
	b.conf, b.exists, b.running = string(conf), true, string(conf)
	b.rec.record(Call{Cmd: "birdc configure"})
	return nil
}

// Set makes the configuration file hold conf (as if edited by hand),
// without recording a call and without telling BIRD.
func (b *Bird) Set(conf string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.conf, b.exists = conf, true
}

// Running returns the configuration BIRD uses ("" before the first Load).
func (b *Bird) Running() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.running
}

// Confs returns the configurations given to Load, in order.
func (b *Bird) Confs() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.confs...)
}

// Log returns BIRD's own call log.
func (b *Bird) Log() *Log { return &b.rec.own }

// Reset forgets the recorded calls and configurations (the file stays).
func (b *Bird) Reset() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.confs = nil
	b.rec.own.Reset()
}

// String returns the call log, one command per line.
func (b *Bird) String() string { return b.rec.own.String() }
