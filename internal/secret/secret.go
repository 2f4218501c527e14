package secret

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/styx-vpn/styx/internal/topology"
)

// MaxSize bounds a secret file; anything larger is not a key.
const MaxSize = 64 << 10

// ErrEmpty is returned for an empty secret.
var ErrEmpty = errors.New("secret is empty")

// NotFoundError reports a secret that is not available here. It matches
// fs.ErrNotExist with errors.Is.
type NotFoundError struct {
	What string // "environment variable X is not set", "file F does not exist"
}

func (e *NotFoundError) Error() string { return e.What }

// Is makes errors.Is(err, fs.ErrNotExist) true.
func (e *NotFoundError) Is(target error) bool { return target == fs.ErrNotExist }

// OS reads secrets from the file system and the process environment.
// Getenv defaults to os.Getenv; tests replace it.
type OS struct {
	Getenv func(string) (string, bool)
	// Fallback, if set, is a directory of stand-in secrets (the lab's
	// generated keys) consulted when a secret is not available.
	Fallback string
}

// FallbackName is the file name a stand-in for s has in a fallback
// directory.
func FallbackName(s *topology.Secret) string {
	return strings.NewReplacer("/", "_", " ", "_").Replace(s.Source())
}

// ReadSecret returns the secret's value. A file's trailing newline is
// removed. A missing file or unset variable gives an error wrapping
// fs.ErrNotExist.
func (o OS) ReadSecret(s *topology.Secret) ([]byte, error) {
	v, err := o.read(s)
	if err != nil && o.Fallback != "" && errors.Is(err, fs.ErrNotExist) {
		if fv, ferr := (OS{}).read(&topology.Secret{File: filepath.Join(o.Fallback, FallbackName(s))}); ferr == nil {
			return fv, nil
		}
	}
	return v, err
}

func (o OS) read(s *topology.Secret) ([]byte, error) {
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
			return nil, &NotFoundError{What: "environment variable " + s.Env + " is not set"}
		}
		if v == "" {
			return nil, fmt.Errorf("environment variable %s: %w", s.Env, ErrEmpty)
		}
		return []byte(v), nil
	case s.File != "":
		f, err := os.Open(s.File)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, &NotFoundError{What: "file " + s.File + " does not exist"}
		}
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

// GeneratedBytes is the size of generated pre-shared keys (> 256 bits, as
// strongSwan recommends: openssl rand -base64 33).
const GeneratedBytes = 33

// Generate writes a new random key to path as "0s<base64>" with mode 0600,
// creating missing directories with mode 0700. It never overwrites: an
// existing file is an error wrapping fs.ErrExist.
func Generate(path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	key := make([]byte, GeneratedBytes)
	if _, err := rand.Read(key); err != nil {
		return fmt.Errorf("secret: random: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = f.WriteString("0s" + base64.StdEncoding.EncodeToString(key) + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}
