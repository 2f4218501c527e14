package applytest

import (
	"strings"
	"sync"
)

// Call is one recorded call.
type Call struct {
	// Cmd is the call written as a command, e.g. "load-conn cloud-sitea".
	Cmd string
	// ReadOnly marks calls that only read (get-*, nft list, sysctl -n).
	ReadOnly bool
	// Err is the error the call returned, if any.
	Err error
}

// String returns the command, with "(failed: err)" appended if it failed.
func (c Call) String() string {
	if c.Err != nil {
		return c.Cmd + " (failed: " + c.Err.Error() + ")"
	}
	return c.Cmd
}

// Log is a list of calls in the order they were made. It is safe for
// concurrent use. The zero Log is empty and ready to use.
type Log struct {
	mu    sync.Mutex
	calls []Call
}

func (l *Log) add(c Call) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, c)
}

// Calls returns a copy of the recorded calls.
func (l *Log) Calls() []Call {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Call(nil), l.calls...)
}

// Len returns the number of recorded calls.
func (l *Log) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.calls)
}

// Reset forgets the recorded calls.
func (l *Log) Reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = nil
}

// String returns every call, one per line, each line ending in a newline.
func (l *Log) String() string { return l.format(true) }

// Mutations is String without the read-only calls.
func (l *Log) Mutations() string { return l.format(false) }

func (l *Log) format(readOnly bool) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var b strings.Builder
	for _, c := range l.calls {
		if c.ReadOnly && !readOnly {
			continue
		}
		b.WriteString(c.String())
		b.WriteByte('\n')
	}
	return b.String()
}

// recorder records calls in a fake's own log and, if the fake belongs to
// a Gateway, in the gateway's shared log too.
type recorder struct {
	own    Log
	shared *Log
}

func (r *recorder) record(c Call) {
	r.own.add(c)
	if r.shared != nil {
		r.shared.add(c)
	}
}

// injection is one failure to inject: the first call matching it fails and
// consumes it.
type injection struct {
	match func(cmd string) bool
	err   error
}

// take returns the error of the first injection matching cmd and removes
// that injection from list.
func take(list *[]injection, cmd string) error {
	for i, in := range *list {
		if in.match(cmd) {
			*list = append((*list)[:i:i], (*list)[i+1:]...)
			return in.err
		}
	}
	return nil
}
