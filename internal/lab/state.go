package lab

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// Node is one namespace of the lab.
type Node struct {
	Name string `json:"name"`
	NS   string `json:"ns"`
	Kind string `json:"kind"` // router, gateway, host, roadwarrior
	// Addrs are the node's addresses (public address for gateways, LAN
	// address for hosts).
	Addrs []string `json:"addrs,omitempty"`
	// Dir is the gateway's charon directory.
	Dir string `json:"dir,omitempty"`
	// LANAddrs are a gateway's addresses on its LAN bridge.
	LANAddrs []string `json:"lan_addrs,omitempty"`
	// Gateway names the gateway a host sits behind.
	Gateway string `json:"gateway,omitempty"`
	// Bird is set for gateways that run BIRD (bird.conf and bird.ctl in Dir).
	Bird bool `json:"bird,omitempty"`
}

// Proc is a process the lab started.
type Proc struct {
	Name string `json:"name"`
	NS   string `json:"ns"`
	PID  int    `json:"pid"`
}

// State is what `lab up` built, saved as lab.json in the lab directory.
type State struct {
	ID        string  `json:"id"`
	File      string  `json:"file"`
	Dataplane string  `json:"dataplane"`
	Nodes     []*Node `json:"nodes"`
	Procs     []Proc  `json:"procs"`
	// Skipped lists the parts of the topology this data plane cannot run.
	Skipped []string `json:"skipped,omitempty"`
	// Rekey is the lab's CHILD_SA rekey time (lab.rekey), if any.
	Rekey time.Duration `json:"rekey,omitempty"`
}

// Node returns the node called name.
func (s *State) Node(name string) *Node {
	for _, n := range s.Nodes {
		if n.Name == name {
			return n
		}
	}
	return nil
}

// Names lists the nodes.
func (s *State) Names() []string {
	var out []string
	for _, n := range s.Nodes {
		out = append(out, n.Name)
	}
	return out
}

func statePath(dir string) string { return filepath.Join(dir, "lab.json") }

// Save writes lab.json.
func (s *State) Save(dir string) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(statePath(dir), b, 0o600)
}

// LoadState reads lab.json from dir.
func LoadState(dir string) (*State, error) {
	b, err := os.ReadFile(statePath(dir))
	if err != nil {
		return nil, fmt.Errorf("no lab in %s (run styx lab up first): %w", dir, err)
	}
	var s State
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("lab state %s is corrupt: %w", statePath(dir), err)
	}
	return &s, nil
}

var idRE = regexp.MustCompile(`[^a-z0-9]+`)

// maxID bounds lab ids, so that the paths built from them (charon's VICI
// socket under the lab directory) stay well within a socket path's 108
// bytes.
const maxID = 24

// ID derives a lab id from a topology file name: its base name in lower
// case with everything but letters and digits removed, at most 24
// characters (s1-iot-cloud.yaml -> s1iotcloud); "lab" when nothing is left.
func ID(file string) string {
	base := strings.TrimSuffix(filepath.Base(file), filepath.Ext(file))
	id := idRE.ReplaceAllString(strings.ToLower(base), "")
	if len(id) > maxID {
		id = id[:maxID]
	}
	if id == "" {
		id = "lab"
	}
	return id
}

// DefaultDir is where a lab keeps its files unless told otherwise (not
// under /run: each charon bind-mounts its own directory over /run).
func DefaultDir(id string) string { return filepath.Join("/var/tmp/styx-lab", id) }
