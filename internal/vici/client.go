package vici

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	govici "github.com/strongswan/govici/vici"
)

// DefaultSocket is charon's standard VICI socket.
const DefaultSocket = "/var/run/charon.vici"

// Timeouts for calls; initiate can take tens of seconds with retransmits.
const (
	CallTimeout     = 10 * time.Second
	InitiateTimeout = 30 * time.Second
)

// Error is a failed VICI command.
type Error struct {
	Cmd string
	Err error
}

func (e *Error) Error() string { return fmt.Sprintf("vici %s: %v", e.Cmd, e.Err) }

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Client talks to one charon. It is safe for use by one goroutine at a time.
type Client struct {
	path  string
	mu    sync.Mutex
	sess  *govici.Session
	calls int
}

// New returns a client for the socket at path ("" = DefaultSocket). It
// dials lazily.
func New(path string) *Client {
	if path == "" {
		path = DefaultSocket
	}
	return &Client{path: strings.TrimPrefix(path, "unix://")}
}

// Socket returns the socket path.
func (c *Client) Socket() string { return c.path }

// Calls returns how many VICI commands were sent.
func (c *Client) Calls() int { return c.calls }

// Close closes the session.
func (c *Client) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.sess != nil {
		err := c.sess.Close()
		c.sess = nil
		return err
	}
	return nil
}

func (c *Client) session() (*govici.Session, error) {
	if c.sess != nil {
		return c.sess, nil
	}
	s, err := govici.NewSession(govici.WithSocketPath(c.path))
	if err != nil {
		return nil, fmt.Errorf("vici: connect to %s: %w (is charon running?)", c.path, err)
	}
	c.sess = s
	return s, nil
}

func (c *Client) drop() {
	if c.sess != nil {
		c.sess.Close()
		c.sess = nil
	}
}

// isCommandFailure reports charon's "success = no" answers, which leave
// the session usable.
func isCommandFailure(err error) bool {
	return err != nil && strings.Contains(err.Error(), "command failed")
}

// Call sends one command with a deadline. A transport failure closes the
// session; the next call redials.
func (c *Client) Call(ctx context.Context, cmd string, in *govici.Message, timeout time.Duration) (*govici.Message, error) {
	var out *govici.Message
	err := c.with(ctx, cmd, timeout, func(ctx context.Context, s *govici.Session) (err error) {
		out, err = s.Call(ctx, cmd, in)
		return err
	})
	return out, err
}

// Stream sends a streaming command and collects its events.
func (c *Client) Stream(ctx context.Context, cmd, event string, in *govici.Message, timeout time.Duration) ([]*govici.Message, error) {
	var out []*govici.Message
	err := c.with(ctx, cmd, timeout, func(ctx context.Context, s *govici.Session) error {
		for m, err := range s.CallStreaming(ctx, cmd, event, in) {
			if err != nil {
				return err
			}
			out = append(out, m)
		}
		return nil
	})
	return out, err
}

// with runs one command on the session under the client's lock, with a
// deadline (never without one: a silent gap of more than 5 s kills a govici
// session), and drops the session after a transport failure.
func (c *Client) with(ctx context.Context, cmd string, timeout time.Duration, f func(context.Context, *govici.Session) error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if timeout == 0 {
		timeout = CallTimeout
	}
	s, err := c.session()
	if err != nil {
		return &Error{Cmd: cmd, Err: err}
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	c.calls++
	if err := f(ctx, s); err != nil {
		if !isCommandFailure(err) {
			c.drop()
			if ctx.Err() != nil {
				err = fmt.Errorf("no answer from charon within %s: %w", timeout, err)
			} else {
				err = fmt.Errorf("lost the connection to charon (did it stop?): %w", err)
			}
		}
		return &Error{Cmd: cmd, Err: err}
	}
	return nil
}

func list(m *govici.Message, key string) []string {
	if m == nil {
		return nil
	}
	switch v := m.Get(key).(type) {
	case []string:
		return v
	case string:
		return []string{v}
	}
	return nil
}

// ConnNames returns the names of the loaded connections (get-conns).
func (c *Client) ConnNames(ctx context.Context) ([]string, error) {
	m, err := c.Call(ctx, "get-conns", nil, 0)
	return list(m, "conns"), err
}

// SharedIDs returns the unique ids of loaded shared secrets (get-shared).
func (c *Client) SharedIDs(ctx context.Context) ([]string, error) {
	m, err := c.Call(ctx, "get-shared", nil, 0)
	return list(m, "keys"), err
}

// PoolNames returns the loaded pools (get-pools).
func (c *Client) PoolNames(ctx context.Context) ([]string, error) {
	m, err := c.Call(ctx, "get-pools", nil, 0)
	if err != nil || m == nil {
		return nil, err
	}
	return m.Keys(), nil
}

func named(key, value string) *govici.Message {
	m := govici.NewMessage()
	set(m, key, value)
	return m
}

// LoadConn loads (or replaces) a connection.
func (c *Client) LoadConn(ctx context.Context, msg *govici.Message) error {
	_, err := c.Call(ctx, "load-conn", msg, 0)
	return err
}

// UnloadConn unloads a connection (its SAs are closed by charon).
func (c *Client) UnloadConn(ctx context.Context, name string) error {
	_, err := c.Call(ctx, "unload-conn", named("name", name), 0)
	return err
}

// LoadShared loads a shared secret.
func (c *Client) LoadShared(ctx context.Context, msg *govici.Message) error {
	_, err := c.Call(ctx, "load-shared", msg, 0)
	return err
}

// UnloadShared unloads a shared secret by unique id.
func (c *Client) UnloadShared(ctx context.Context, id string) error {
	_, err := c.Call(ctx, "unload-shared", named("id", id), 0)
	return err
}

// LoadPool loads a pool.
func (c *Client) LoadPool(ctx context.Context, msg *govici.Message) error {
	_, err := c.Call(ctx, "load-pool", msg, 0)
	return err
}

// UnloadPool unloads a pool.
func (c *Client) UnloadPool(ctx context.Context, name string) error {
	_, err := c.Call(ctx, "unload-pool", named("name", name), 0)
	return err
}

// LoadCert loads a certificate (DER). flag is "ca" for CA certificates.
func (c *Client) LoadCert(ctx context.Context, der []byte, flag string) error {
	m := govici.NewMessage()
	set(m, "type", "X509")
	set(m, "flag", flag)
	set(m, "data", string(der))
	_, err := c.Call(ctx, "load-cert", m, 0)
	return err
}

// LoadKey loads a private key (DER); typ is "ecdsa", "rsa" or "any".
func (c *Client) LoadKey(ctx context.Context, typ string, der []byte) error {
	m := govici.NewMessage()
	set(m, "type", typ)
	set(m, "data", string(der))
	_, err := c.Call(ctx, "load-key", m, 0)
	return err
}

// Initiate starts a child of a connection and waits for the outcome.
func (c *Client) Initiate(ctx context.Context, ike, child string) error {
	m := govici.NewMessage()
	set(m, "child", child)
	set(m, "ike", ike)
	set(m, "timeout", "25000")
	_, err := c.Stream(ctx, "initiate", "control-log", m, InitiateTimeout)
	return err
}

// Terminate closes the IKE_SAs of a connection.
func (c *Client) Terminate(ctx context.Context, ike string) error {
	m := govici.NewMessage()
	set(m, "ike", ike)
	set(m, "timeout", "5000")
	set(m, "force", "yes")
	_, err := c.Stream(ctx, "terminate", "control-log", m, InitiateTimeout)
	return err
}
