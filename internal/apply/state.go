package apply

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// State is what the previous apply did; it lets the next one see what
// changed and roll back. It holds secret values (like swanctl's secrets
// file), so it is written with mode 0600.
type State struct {
	Gateway string `json:"gateway"`
	// Conns are the applied connections (plan.Conn as JSON), by name.
	Conns map[string]json.RawMessage `json:"conns"`
	// Secrets are the applied secrets: owners and encoded value, by id.
	Secrets map[string]StateSecret `json:"secrets"`
	// Pools are the applied pools (plan.Pool as JSON), by name.
	Pools map[string]json.RawMessage `json:"pools"`
	// Nft is the applied nftables file.
	Nft string `json:"nft,omitempty"`
	// NftLive is the firewall as the kernel listed it right after styx
	// loaded Nft, without counter values (see Listing): the next plan
	// compares the live listing with it to find rules edited by hand or
	// by another tool.
	NftLive string `json:"nft_live,omitempty"`
	// Sysctls are the values styx set, with the value found before.
	Sysctls map[string]StateSysctl `json:"sysctls,omitempty"`
	// Commands are the ip commands applied (links, addresses, routes), each
	// with the command that undoes it.
	Commands []StateCommand `json:"commands,omitempty"`
	// Bird is the applied BIRD configuration.
	Bird string `json:"bird,omitempty"`
}

// StateSecret is one applied secret.
type StateSecret struct {
	Kind   string   `json:"kind"`
	Owners []string `json:"owners"`
	Value  string   `json:"value"` // 0s<base64>
}

// StateSysctl is one sysctl styx set.
type StateSysctl struct {
	Value    string `json:"value"`
	Original string `json:"original"`
}

// StateCommand is an applied ip command and its undo.
type StateCommand struct {
	Do   []string `json:"do"`
	Undo []string `json:"undo"`
}

func newState(gw string) *State {
	return &State{Gateway: gw, Conns: map[string]json.RawMessage{}, Secrets: map[string]StateSecret{}, Pools: map[string]json.RawMessage{}, Sysctls: map[string]StateSysctl{}}
}

// StatePath is where the state of gateway gw lives in dir.
func StatePath(dir, gw string) string { return filepath.Join(dir, gw+".state.json") }

// LoadState reads the state of gw from dir; a missing file is an empty state.
func LoadState(dir, gw string) (*State, error) {
	b, err := os.ReadFile(StatePath(dir, gw))
	if errors.Is(err, fs.ErrNotExist) {
		return newState(gw), nil
	}
	if err != nil {
		return nil, fmt.Errorf("apply: state: %w", err)
	}
	s := newState(gw)
	if err := json.Unmarshal(b, s); err != nil {
		return nil, fmt.Errorf("apply: state %s is corrupt: %w (move it away to start from scratch)", StatePath(dir, gw), err)
	}
	if s.Conns == nil {
		s.Conns = map[string]json.RawMessage{}
	}
	// the file is indented for people; compare compact documents
	for _, m := range []map[string]json.RawMessage{s.Conns, s.Pools} {
		for k, v := range m {
			var buf bytes.Buffer
			if json.Compact(&buf, v) == nil {
				m[k] = buf.Bytes()
			}
		}
	}
	if s.Secrets == nil {
		s.Secrets = map[string]StateSecret{}
	}
	if s.Pools == nil {
		s.Pools = map[string]json.RawMessage{}
	}
	if s.Sysctls == nil {
		s.Sysctls = map[string]StateSysctl{}
	}
	return s, nil
}

// Save writes the state atomically with mode 0600.
func (s *State) Save(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("apply: state: %w", err)
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	path := StatePath(dir, s.Gateway)
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("apply: state: %w", err)
	}
	return os.Rename(tmp, path)
}
