package applytest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/styx-vpn/styx/internal/apply"
)

// Table is the nftables table apply owns.
const Table = "inet styx"

// ErrNoTable is what nft answers when table inet styx does not exist.
var ErrNoTable = errors.New("Error: Could not process rule: No such file or directory")

// Firewall is an nftables that only knows table inet styx. It implements
// apply.Firewall and records
//
//	nft list table inet styx     (Current, read-only)
//	nft -f -                     (Load; the files are kept, see Files)
//	nft delete table inet styx   (Remove)
//
// Load understands the files styx renders and the restore scripts apply
// writes: blank and comment lines, `table inet styx {}` (create if
// missing), `delete table inet styx` (fails if missing), and one block
// `table inet styx {` ... `}` (the `}` alone on its line) that becomes the
// table. Like nft -f, a file is applied completely or not at all. The
// listing Current returns is that block without its comment lines, which
// is what a restore script built from it loads back.
type Firewall struct {
	mu     sync.Mutex
	rec    recorder
	table  string
	exists bool
	files  []string
	loads  int // Load calls so far
	failAt map[int]error
}

var _ apply.Firewall = (*Firewall)(nil)

// NewFirewall returns a firewall without table inet styx.
func NewFirewall() *Firewall { return &Firewall{} }

// Current implements apply.Firewall.
func (f *Firewall) Current(ctx context.Context) ([]byte, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rec.record(Call{Cmd: "nft list table " + Table, ReadOnly: true})
	if !f.exists {
		return nil, false, nil
	}
	return []byte(f.table), true, nil
}

// FailOnLoad makes the n-th Load from now fail with err (1 is the next).
// A nil err injects nothing.
func (f *Firewall) FailOnLoad(n int, err error) {
	if err == nil {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.failAt == nil {
		f.failAt = map[int]error{}
	}
	f.failAt[f.loads+n] = err
}

// Load implements apply.Firewall.
func (f *Firewall) Load(ctx context.Context, ruleset []byte) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.loads++
	f.files = append(f.files, string(ruleset))
	err := f.failAt[f.loads]
	delete(f.failAt, f.loads)
	if err == nil {
		var table string
		var exists bool
		if table, exists, err = parseRuleset(string(ruleset), f.table, f.exists); err == nil {
			f.table, f.exists = table, exists
		}
	}
	f.rec.record(Call{Cmd: "nft -f -", Err: err})
	return err
}

// Remove implements apply.Firewall.
func (f *Firewall) Remove(ctx context.Context) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	var err error
	if f.exists {
		f.table, f.exists = "", false
	} else {
		err = ErrNoTable
	}
	f.rec.record(Call{Cmd: "nft delete table " + Table, Err: err})
	return err
}

// parseRuleset applies a ruleset file to the table (text, exists) and
// returns the result.
func parseRuleset(file, table string, exists bool) (string, bool, error) {
	lines := strings.Split(file, "\n")
	for i := 0; i < len(lines); i++ {
		l := strings.TrimSpace(lines[i])
		switch {
		case l == "" || strings.HasPrefix(l, "#"):
		case l == "table "+Table+" {}":
			if !exists {
				table, exists = "table "+Table+" {\n}\n", true
			}
		case l == "delete table "+Table:
			if !exists {
				return "", false, fmt.Errorf("line %d: %w", i+1, ErrNoTable)
			}
			table, exists = "", false
		case l == "table "+Table+" {":
			if exists {
				return "", false, fmt.Errorf("line %d: table %s exists (the fake does not merge tables)", i+1, Table)
			}
			var b strings.Builder
			b.WriteString(l + "\n")
			for i++; ; i++ {
				if i == len(lines) {
					return "", false, fmt.Errorf("line %d: unterminated table block", i)
				}
				if strings.HasPrefix(strings.TrimSpace(lines[i]), "#") {
					continue
				}
				b.WriteString(lines[i] + "\n")
				if lines[i] == "}" {
					break
				}
			}
			table, exists = b.String(), true
		default:
			return "", false, fmt.Errorf("line %d: the fake nft does not understand %q", i+1, l)
		}
	}
	return table, exists, nil
}

// Set makes the table exist with the given listing (as if loaded by
// someone else), without recording a call; an empty listing removes it.
func (f *Firewall) Set(listing string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.table, f.exists = listing, listing != ""
}

// Table returns the current listing and whether the table exists.
func (f *Firewall) Table() (string, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.table, f.exists
}

// Files returns the files given to Load, in order (failed loads included).
func (f *Firewall) Files() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.files...)
}

// Log returns the firewall's own call log.
func (f *Firewall) Log() *Log { return &f.rec.own }

// Reset forgets the recorded calls and files (the table stays).
func (f *Firewall) Reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.files = nil
	f.rec.own.Reset()
}

// String returns the call log, one command per line.
func (f *Firewall) String() string { return f.rec.own.String() }

// Snapshot prints the table, or "no table inet styx".
func (f *Firewall) Snapshot() string {
	t, ok := f.Table()
	if !ok {
		return "no table " + Table + "\n"
	}
	return t
}
