package applytest

import (
	"context"
	"crypto/sha256"
	"fmt"
	"slices"
	"strings"
	"sync"

	govici "github.com/strongswan/govici/vici"

	"github.com/styx-vpn/styx/internal/apply"
)

// Store is an in-memory charon: it implements apply.Store and
// apply.Credentials, keeps the loaded objects (as the String of the
// message that loaded them) and records every call as the VICI command:
//
//	get-conns, get-shared, get-pools        (read-only)
//	load-conn NAME, load-shared NAME, load-pool NAME
//	unload-conn NAME, unload-shared NAME, unload-pool NAME
//	load-cert (FLAG), load-key (TYPE)
//
// Unloading an object that is not loaded fails, as it does in charon.
type Store struct {
	mu      sync.Mutex
	rec     recorder
	objects map[apply.Kind]map[string]string
	creds   map[string]bool // "cert FLAG HASH", "key TYPE HASH"
	fail    []injection
}

var (
	_ apply.Store       = (*Store)(nil)
	_ apply.Credentials = (*Store)(nil)
)

// NewStore returns an empty store (charon just started).
func NewStore() *Store { return &Store{} }

func verb(kind apply.Kind) string {
	switch kind {
	case apply.Conn:
		return "conn"
	case apply.Shared:
		return "shared"
	case apply.Pool:
		return "pool"
	}
	return string(kind)
}

// FailOn makes the next call of op on name fail with err; op is a VICI
// command as logged, e.g. "load-conn", "unload-shared", "get-conns",
// "load-cert". An empty name matches any name. Each FailOn fails one call;
// call it twice to fail two. A nil err injects nothing.
func (s *Store) FailOn(op, name string, err error) {
	if err == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fail = append(s.fail, injection{match: func(cmd string) bool {
		o, n, _ := strings.Cut(cmd, " ")
		return o == op && (name == "" || n == name)
	}, err: err})
}

// do records cmd and runs change unless an injected failure matches.
func (s *Store) do(cmd string, readOnly bool, change func() error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	err := take(&s.fail, cmd)
	if err == nil && change != nil {
		err = change()
	}
	s.rec.record(Call{Cmd: cmd, ReadOnly: readOnly, Err: err})
	return err
}

func (s *Store) kind(kind apply.Kind) map[string]string {
	if s.objects == nil {
		s.objects = map[apply.Kind]map[string]string{}
	}
	if s.objects[kind] == nil {
		s.objects[kind] = map[string]string{}
	}
	return s.objects[kind]
}

// Names implements apply.Store; the names are sorted.
func (s *Store) Names(ctx context.Context, kind apply.Kind) ([]string, error) {
	var names []string
	cmd := "get-" + verb(kind) + "s"
	if kind == apply.Shared {
		cmd = "get-shared"
	}
	err := s.do(cmd, true, func() error {
		for n := range s.kind(kind) {
			names = append(names, n)
		}
		slices.Sort(names)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return names, nil
}

// Load implements apply.Store.
func (s *Store) Load(ctx context.Context, kind apply.Kind, name string, msg *govici.Message) error {
	return s.do("load-"+verb(kind)+" "+name, false, func() error {
		if msg == nil {
			return fmt.Errorf("load-%s %s: no message", verb(kind), name)
		}
		s.kind(kind)[name] = msg.String()
		return nil
	})
}

// Unload implements apply.Store.
func (s *Store) Unload(ctx context.Context, kind apply.Kind, name string) error {
	return s.do("unload-"+verb(kind)+" "+name, false, func() error {
		m := s.kind(kind)
		if _, ok := m[name]; !ok {
			return fmt.Errorf("%s %q not found", verb(kind), name)
		}
		delete(m, name)
		return nil
	})
}

// LoadCert implements apply.Credentials.
func (s *Store) LoadCert(ctx context.Context, der []byte, flag string) error {
	return s.do("load-cert ("+flag+")", false, func() error {
		s.addCred("cert", flag, der)
		return nil
	})
}

// LoadKey implements apply.Credentials.
func (s *Store) LoadKey(ctx context.Context, typ string, der []byte) error {
	return s.do("load-key ("+typ+")", false, func() error {
		s.addCred("key", typ, der)
		return nil
	})
}

// addCred keeps a credential once, as charon does when the same
// certificate is loaded again.
func (s *Store) addCred(what, flag string, der []byte) {
	if s.creds == nil {
		s.creds = map[string]bool{}
	}
	sum := sha256.Sum256(der)
	s.creds[fmt.Sprintf("%s (%s) sha256:%x", what, flag, sum[:8])] = true
}

// Put loads an object without recording a call, as if someone else had
// loaded it (a foreign connection, or charon's own swanctl --load-all).
func (s *Store) Put(kind apply.Kind, name string, msg *govici.Message) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.kind(kind)[name] = msg.String()
}

// Get returns the String of the message that loaded an object.
func (s *Store) Get(kind apply.Kind, name string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.kind(kind)[name]
	return v, ok
}

// Restart forgets every loaded object and credential, as a charon restart
// does; the log and pending failures are kept.
func (s *Store) Restart() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.objects, s.creds = nil, nil
}

// Calls returns the number of calls recorded (read-only ones included).
func (s *Store) Calls() int { return s.rec.own.Len() }

// Log returns the store's own call log.
func (s *Store) Log() *Log { return &s.rec.own }

// Reset forgets the recorded calls (the loaded objects stay).
func (s *Store) Reset() { s.rec.own.Reset() }

// String returns the call log, one command per line.
func (s *Store) String() string { return s.rec.own.String() }

// Snapshot prints what charon has loaded, sorted: every object with the
// message that loaded it, then the credentials.
func (s *Store) Snapshot() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var b strings.Builder
	for _, kind := range []apply.Kind{apply.Conn, apply.Shared, apply.Pool} {
		m := s.objects[kind]
		names := make([]string, 0, len(m))
		for n := range m {
			names = append(names, n)
		}
		slices.Sort(names)
		for _, n := range names {
			fmt.Fprintf(&b, "%s %s %s", verb(kind), n, m[n])
		}
	}
	creds := make([]string, 0, len(s.creds))
	for c := range s.creds {
		creds = append(creds, c)
	}
	slices.Sort(creds)
	for _, c := range creds {
		b.WriteString(c + "\n")
	}
	return b.String()
}
