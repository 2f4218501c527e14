package vici

import (
	"context"
	"slices"
	"strconv"
	"strings"

	govici "github.com/strongswan/govici/vici"
)

// IKESA is one IKE_SA as charon reports it (list-sas).
type IKESA struct {
	Name        string    `json:"name"`
	UniqueID    string    `json:"unique_id"`
	Version     int       `json:"version"`
	State       string    `json:"state"`
	LocalHost   string    `json:"local_host"`
	LocalID     string    `json:"local_id"`
	RemoteHost  string    `json:"remote_host"`
	RemoteID    string    `json:"remote_id"`
	Initiator   bool      `json:"initiator"`
	NATAny      bool      `json:"nat"`
	Encryption  string    `json:"encryption"`
	Integrity   string    `json:"integrity,omitempty"`
	PRF         string    `json:"prf"`
	DHGroup     string    `json:"dh_group"`
	Established int64     `json:"established_seconds"`
	RekeyIn     int64     `json:"rekey_in_seconds"`
	ReauthIn    int64     `json:"reauth_in_seconds"`
	Children    []ChildSA `json:"children"`
}

// ChildSA is one CHILD_SA.
type ChildSA struct {
	Name       string   `json:"name"`
	UniqueID   string   `json:"unique_id"`
	ReqID      string   `json:"reqid"`
	State      string   `json:"state"`
	Mode       string   `json:"mode"`
	Encap      bool     `json:"encap"`
	SPIIn      string   `json:"spi_in"`
	SPIOut     string   `json:"spi_out"`
	Encryption string   `json:"encryption"`
	Integrity  string   `json:"integrity,omitempty"`
	DHGroup    string   `json:"dh_group,omitempty"`
	BytesIn    uint64   `json:"bytes_in"`
	PacketsIn  uint64   `json:"packets_in"`
	UseIn      int64    `json:"last_in_seconds"` // -1: never
	BytesOut   uint64   `json:"bytes_out"`
	PacketsOut uint64   `json:"packets_out"`
	UseOut     int64    `json:"last_out_seconds"`
	RekeyIn    int64    `json:"rekey_in_seconds"`
	LifeIn     int64    `json:"life_in_seconds"`
	Installed  int64    `json:"installed_seconds"`
	LocalTS    []string `json:"local_ts"`
	RemoteTS   []string `json:"remote_ts"`
}

func str(m *govici.Message, k string) string {
	if s, ok := m.Get(k).(string); ok {
		return s
	}
	return ""
}

func num(m *govici.Message, k string) int64 {
	n, err := strconv.ParseInt(str(m, k), 10, 64)
	if err != nil {
		return -1
	}
	return n
}

func unum(m *govici.Message, k string) uint64 {
	n, _ := strconv.ParseUint(str(m, k), 10, 64)
	return n
}

func alg(m *govici.Message, name, size string) string {
	a := str(m, name)
	if s := str(m, size); s != "" && a != "" {
		a += "_" + s
	}
	return a
}

// ParseSAs converts list-sa events into IKESAs, sorted by name and id.
func ParseSAs(events []*govici.Message) []IKESA {
	var out []IKESA
	for _, ev := range events {
		for _, name := range ev.Keys() {
			m, ok := ev.Get(name).(*govici.Message)
			if !ok {
				continue
			}
			sa := IKESA{
				Name: name, UniqueID: str(m, "uniqueid"), State: str(m, "state"),
				LocalHost: str(m, "local-host"), LocalID: str(m, "local-id"),
				RemoteHost: str(m, "remote-host"), RemoteID: str(m, "remote-id"),
				Initiator: str(m, "initiator") == "yes", NATAny: str(m, "nat-any") == "yes" || str(m, "nat-remote") == "yes" || str(m, "nat-local") == "yes",
				Encryption: alg(m, "encr-alg", "encr-keysize"), Integrity: alg(m, "integ-alg", "integ-keysize"),
				PRF: str(m, "prf-alg"), DHGroup: str(m, "dh-group"),
				Established: num(m, "established"), RekeyIn: num(m, "rekey-time"), ReauthIn: num(m, "reauth-time"),
			}
			sa.Version, _ = strconv.Atoi(str(m, "version"))
			if cs, ok := m.Get("child-sas").(*govici.Message); ok {
				for _, ck := range cs.Keys() {
					c, ok := cs.Get(ck).(*govici.Message)
					if !ok {
						continue
					}
					ch := ChildSA{
						Name: str(c, "name"), UniqueID: str(c, "uniqueid"), ReqID: str(c, "reqid"), State: str(c, "state"),
						Mode: str(c, "mode"), Encap: str(c, "encap") == "yes", SPIIn: str(c, "spi-in"), SPIOut: str(c, "spi-out"),
						Encryption: alg(c, "encr-alg", "encr-keysize"), Integrity: alg(c, "integ-alg", "integ-keysize"), DHGroup: str(c, "dh-group"),
						BytesIn: unum(c, "bytes-in"), PacketsIn: unum(c, "packets-in"), UseIn: num(c, "use-in"),
						BytesOut: unum(c, "bytes-out"), PacketsOut: unum(c, "packets-out"), UseOut: num(c, "use-out"),
						RekeyIn: num(c, "rekey-time"), LifeIn: num(c, "life-time"), Installed: num(c, "install-time"),
						LocalTS: list(c, "local-ts"), RemoteTS: list(c, "remote-ts"),
					}
					sa.Children = append(sa.Children, ch)
				}
			}
			slices.SortFunc(sa.Children, func(a, b ChildSA) int { return strings.Compare(a.Name+a.UniqueID, b.Name+b.UniqueID) })
			out = append(out, sa)
		}
	}
	slices.SortFunc(out, func(a, b IKESA) int { return strings.Compare(a.Name+"/"+a.UniqueID, b.Name+"/"+b.UniqueID) })
	return out
}

// ListSAs lists the SAs of one connection (ike != "") — per connection,
// because govici may drop events of one large stream.
func (c *Client) ListSAs(ctx context.Context, ike string) ([]IKESA, error) {
	var in *govici.Message
	if ike != "" {
		in = named("ike", ike)
	}
	events, err := c.Stream(ctx, "list-sas", "list-sa", in, 0)
	if err != nil {
		return nil, err
	}
	return ParseSAs(events), nil
}
