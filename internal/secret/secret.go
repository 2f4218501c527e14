package secret

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"

	"github.com/styx-vpn/styx/internal/topology"
)

// MaxSize bounds a secret file; anything larger is not a key.
const MaxSize = 64 << 10

// ErrEmpty is returned for an empty secret.
var ErrEmpty = errors.New("secret is empty")

// OS reads secrets from the file system and the process environment.
// Getenv defaults to os.Getenv; tests replace it.
type OS struct {
	Getenv func(string) (string, bool)
}

// ReadSecret returns the secret's value. A file's trailing newline is
// removed. A missing file or unset variable gives an error wrapping
// fs.ErrNotExist.
func (o OS) ReadSecret(s *topology.Secret) ([]byte, error) {
	switch {
	case s.Value != "":
		return []byte(s.Value), nil
	case s.Env != "":
		get := o.Getenv
		if get == nil {
			get = os.LookupEnv
		}
		v, ok := get(s.Env)
		if !ok {
			return nil, fmt.Errorf("environment variable %s is not set: %w", s.Env, fs.ErrNotExist)
		}
		if v == "" {
			return nil, fmt.Errorf("environment variable %s: %w", s.Env, ErrEmpty)
		}
		return []byte(v), nil
	case s.File != "":
		f, err := os.Open(s.File)
		if err != nil {
			return nil, fmt.Errorf("secret file: %w", err)
		}
		defer f.Close()
		buf, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
		if err != nil {
			return nil, fmt.Errorf("secret file %s: %w", s.File, err)
		}
		if len(buf) > MaxSize {
			return nil, fmt.Errorf("secret file %s is larger than %d bytes", s.File, MaxSize)
		}
		v := strings.TrimRight(string(buf), "\r\n")
		if v == "" {
			return nil, fmt.Errorf("secret file %s: %w", s.File, ErrEmpty)
		}
		return []byte(v), nil
	}
	return nil, errors.New("secret has no source")
}
