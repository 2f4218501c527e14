package apply

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/styx-vpn/styx/internal/plan"
)

// Pending is an apply that must be confirmed before its deadline, or it is
// rolled back to Previous (commit-confirmed, as on routers).
type Pending struct {
	Gateway  string    `json:"gateway"`
	Deadline time.Time `json:"deadline"`
	// Previous is the state before the apply being confirmed.
	Previous *State `json:"previous"`
	// WaiterPID is the process that rolls back at the deadline.
	WaiterPID int `json:"waiter_pid,omitempty"`
}

// PendingPath is where the pending confirmation of gw lives.
func PendingPath(dir, gw string) string { return filepath.Join(dir, gw+".pending.json") }

// SavePending writes p (mode 0600: it holds the previous secrets).
func SavePending(dir string, p *Pending) error {
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return err
	}
	tmp := PendingPath(dir, p.Gateway) + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, PendingPath(dir, p.Gateway))
}

// LoadPending reads the pending confirmation of gw; (nil, nil) if none.
func LoadPending(dir, gw string) (*Pending, error) {
	b, err := os.ReadFile(PendingPath(dir, gw))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var p Pending
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("apply: pending confirmation %s is corrupt: %w", PendingPath(dir, gw), err)
	}
	return &p, nil
}

// ClearPending removes the pending confirmation of gw.
func ClearPending(dir, gw string) error {
	err := os.Remove(PendingPath(dir, gw))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	return err
}

// DesiredFromState rebuilds what an earlier apply made the gateway look
// like, so that applying it rolls a later apply back. Sysctls go back to
// the values found before styx first set them.
func DesiredFromState(st *State, current *State) (Desired, error) {
	gw := &plan.Gateway{Name: st.Gateway}
	d := Desired{Gateway: gw, Secrets: map[string][]byte{}, Commands: st.Commands}
	for _, name := range sortedKeys(st.Conns) {
		var c plan.Conn
		if err := json.Unmarshal(st.Conns[name], &c); err != nil {
			return d, err
		}
		gw.Conns = append(gw.Conns, &c)
	}
	for _, name := range sortedKeys(st.Pools) {
		var p plan.Pool
		if err := json.Unmarshal(st.Pools[name], &p); err != nil {
			return d, err
		}
		gw.Pools = append(gw.Pools, &p)
	}
	for _, name := range sortedKeys(st.Secrets) {
		s := st.Secrets[name]
		gw.Secrets = append(gw.Secrets, &plan.Secret{Name: name, Kind: s.Kind, IDs: s.Owners})
		d.Secrets[name] = []byte(s.Value)
	}
	if st.Nft != "" {
		d.Nft = []byte(st.Nft)
	}
	// sysctls: what the earlier apply set, and for keys set only later, the
	// value they had before
	for _, k := range sortedKeys(st.Sysctls) {
		gw.Sysctls = append(gw.Sysctls, plan.Sysctl{Key: k, Value: st.Sysctls[k].Value})
	}
	if current != nil {
		for _, k := range sortedKeys(current.Sysctls) {
			if _, ok := st.Sysctls[k]; !ok && current.Sysctls[k].Original != "" {
				gw.Sysctls = append(gw.Sysctls, plan.Sysctl{Key: k, Value: current.Sysctls[k].Original})
			}
		}
	}
	return d, nil
}
