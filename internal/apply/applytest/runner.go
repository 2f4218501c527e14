package applytest

import (
	"context"
	"slices"
	"strings"
	"sync"

	"github.com/styx-vpn/styx/internal/apply"
)

// Runner records the commands it is asked to run, argv joined by spaces,
// and runs nothing: every command succeeds with no output unless a
// failure was injected with FailOn. An empty argv (a command without undo)
// is not recorded, as apply.Exec does not run it. Commands that only read
// (ip ... show, nft list ..., sysctl -n ...) are marked read-only.
type Runner struct {
	mu   sync.Mutex
	rec  recorder
	fail []injection
}

var _ apply.Runner = (*Runner)(nil)

// NewRunner returns a runner.
func NewRunner() *Runner { return &Runner{} }

// FailOn makes the next command starting with prefix (argv joined by
// spaces) fail with err. A nil err injects nothing.
func (r *Runner) FailOn(prefix string, err error) {
	if err == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fail = append(r.fail, injection{match: func(cmd string) bool {
		return strings.HasPrefix(cmd, prefix)
	}, err: err})
}

// Run implements apply.Runner.
func (r *Runner) Run(ctx context.Context, argv ...string) ([]byte, error) {
	if len(argv) == 0 {
		return nil, nil
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	cmd := strings.Join(argv, " ")
	err := take(&r.fail, cmd)
	r.rec.record(Call{Cmd: cmd, ReadOnly: readOnly(argv), Err: err})
	return nil, err
}

func readOnly(argv []string) bool {
	switch argv[0] {
	case "ip":
		return slices.Contains(argv, "show") || slices.Contains(argv, "list") || len(argv) == 2
	case "nft":
		return slices.Contains(argv, "list")
	case "sysctl":
		return slices.Contains(argv, "-n") && !slices.Contains(argv, "-w")
	}
	return false
}

// Log returns the runner's own call log.
func (r *Runner) Log() *Log { return &r.rec.own }

// Reset forgets the recorded calls.
func (r *Runner) Reset() { r.rec.own.Reset() }

// String returns the call log, one command per line.
func (r *Runner) String() string { return r.rec.own.String() }
