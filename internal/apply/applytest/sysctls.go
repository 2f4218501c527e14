package applytest

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"

	"github.com/styx-vpn/styx/internal/apply"
)

// KernelDefaults are the values a freshly booted Linux has for the
// sysctls styx sets.
func KernelDefaults() map[string]string {
	return map[string]string{
		"net.ipv4.ip_forward":                  "0",
		"net.ipv6.conf.all.forwarding":         "0",
		"net.ipv4.conf.all.send_redirects":     "1",
		"net.ipv4.conf.default.send_redirects": "1",
		"net.ipv4.conf.all.rp_filter":          "0",
		"net.ipv4.conf.default.rp_filter":      "0",
		"net.ipv4.conf.all.accept_redirects":   "1",
		"net.ipv6.conf.all.accept_redirects":   "1",
	}
}

// Sysctls is a map of kernel parameters. It implements apply.Sysctls and
// records `sysctl -n KEY` (Get, read-only) and `sysctl -w KEY=VALUE`
// (Set). Keys that are not in the map do not exist: Get and Set fail.
type Sysctls struct {
	mu     sync.Mutex
	rec    recorder
	values map[string]string
	fail   []injection
}

var _ apply.Sysctls = (*Sysctls)(nil)

// NewSysctls returns sysctls with the given values (copied).
func NewSysctls(values map[string]string) *Sysctls {
	return &Sysctls{values: maps.Clone(values)}
}

func notExist(key string) error {
	return fmt.Errorf("sysctl: cannot stat /proc/sys/%s: No such file or directory", strings.ReplaceAll(key, ".", "/"))
}

// Get implements apply.Sysctls.
func (s *Sysctls) Get(ctx context.Context, key string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.values[key]
	var err error
	if !ok {
		err = notExist(key)
	}
	s.rec.record(Call{Cmd: "sysctl -n " + key, ReadOnly: true, Err: err})
	return v, err
}

// Set implements apply.Sysctls.
func (s *Sysctls) Set(ctx context.Context, key, value string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	cmd := "sysctl -w " + key + "=" + value
	err := take(&s.fail, cmd)
	if _, ok := s.values[key]; err == nil && !ok {
		err = notExist(key)
	}
	if err == nil {
		s.values[key] = value
	}
	s.rec.record(Call{Cmd: cmd, Err: err})
	return err
}

// FailOn makes the next Set of key fail with err. A nil err injects nothing.
func (s *Sysctls) FailOn(key string, err error) {
	if err == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = append(s.fail, injection{match: func(cmd string) bool {
		return strings.HasPrefix(cmd, "sysctl -w "+key+"=")
	}, err: err})
}

// Define makes key exist with value, as creating a device does for its
// keys, without recording a call.
func (s *Sysctls) Define(key, value string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.values[key] = value
}

// Value returns the current value of key and whether it exists.
func (s *Sysctls) Value(key string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.values[key]
	return v, ok
}

// Log returns the sysctls' own call log.
func (s *Sysctls) Log() *Log { return &s.rec.own }

// Reset forgets the recorded calls (the values stay).
func (s *Sysctls) Reset() { s.rec.own.Reset() }

// String returns the call log, one command per line.
func (s *Sysctls) String() string { return s.rec.own.String() }

// Snapshot prints every value as KEY = VALUE, sorted by key.
func (s *Sysctls) Snapshot() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var b strings.Builder
	for _, k := range slices.Sorted(maps.Keys(s.values)) {
		fmt.Fprintf(&b, "%s = %s\n", k, s.values[k])
	}
	return b.String()
}
