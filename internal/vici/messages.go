package vici

import (
	"fmt"
	"strconv"

	govici "github.com/strongswan/govici/vici"

	"github.com/styx-vpn/styx/internal/plan"
	"github.com/styx-vpn/styx/internal/render/swanctl"
)

// CertData returns the DER bytes of a certificate file referenced by a
// connection (dir is x509 or x509ca).
type CertData func(dir, name string) ([]byte, error)

func set(m *govici.Message, key string, v any) {
	switch x := v.(type) {
	case string:
		if x == "" {
			return
		}
	case []string:
		if len(x) == 0 {
			return
		}
	}
	if err := m.Set(key, v); err != nil {
		panic(fmt.Sprintf("vici: set %s: %v", key, err)) // only for invalid types, a programming error
	}
}

func yesno(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// ConnMessage builds the load-conn message for c.
func ConnMessage(c *plan.Conn, certs CertData) (*govici.Message, error) {
	body := govici.NewMessage()
	set(body, "version", strconv.Itoa(c.Version))
	set(body, "local_addrs", c.LocalAddrs)
	set(body, "remote_addrs", c.RemoteAddrs)
	set(body, "proposals", c.Proposals)
	set(body, "pools", c.Pools)
	set(body, "vips", c.Vips)
	if c.DPDDelay > 0 {
		set(body, "dpd_delay", swanctl.Duration(c.DPDDelay))
	}
	set(body, "rekey_time", swanctl.Duration(c.RekeyTime))
	set(body, "reauth_time", "0")
	set(body, "mobike", yesno(c.Mobike))
	if c.Encap {
		set(body, "encap", "yes")
	}
	if c.Aggressive {
		set(body, "aggressive", "yes")
	}
	set(body, "unique", c.Unique)
	set(body, "keyingtries", strconv.Itoa(c.KeyingTries))
	set(body, "send_cert", c.SendCert)
	if !c.SendCertReq {
		set(body, "send_certreq", "no")
	}
	for _, r := range []struct {
		name string
		r    plan.AuthRound
	}{{"local", c.Local}, {"remote", c.Remote}} {
		m := govici.NewMessage()
		set(m, "auth", r.r.Auth)
		set(m, "id", r.r.ID)
		set(m, "eap_id", r.r.EAPID)
		for _, x := range []struct {
			key, dir string
			names    []string
		}{{"certs", "x509", r.r.Certs}, {"cacerts", "x509ca", r.r.CACerts}} {
			var data []string
			for _, n := range x.names {
				if certs == nil {
					return nil, fmt.Errorf("vici: connection %s needs certificate %s/%s but no certificate source was given", c.Name, x.dir, n)
				}
				der, err := certs(x.dir, n)
				if err != nil {
					return nil, fmt.Errorf("vici: connection %s: %w", c.Name, err)
				}
				data = append(data, string(der))
			}
			set(m, x.key, data)
		}
		set(body, r.name, m)
	}
	children := govici.NewMessage()
	for _, ch := range c.Children {
		m := govici.NewMessage()
		set(m, "local_ts", ch.LocalTS)
		set(m, "remote_ts", ch.RemoteTS)
		set(m, "mode", ch.Mode)
		set(m, "esp_proposals", ch.ESPProposals)
		set(m, "rekey_time", swanctl.Duration(ch.RekeyTime))
		if ch.LifeTime != 0 {
			set(m, "life_time", swanctl.Duration(ch.LifeTime))
			set(m, "rand_time", swanctl.Duration(ch.RandTime))
		}
		set(m, "start_action", ch.StartAction)
		set(m, "dpd_action", ch.DPDAction)
		set(m, "close_action", ch.CloseAction)
		if ch.IfIDIn != 0 {
			set(m, "if_id_in", strconv.FormatUint(uint64(ch.IfIDIn), 10))
			set(m, "if_id_out", strconv.FormatUint(uint64(ch.IfIDOut), 10))
		}
		if ch.MarkIn != 0 {
			set(m, "mark_in", strconv.FormatUint(uint64(ch.MarkIn), 10))
			set(m, "mark_out", strconv.FormatUint(uint64(ch.MarkOut), 10))
		}
		set(children, ch.Name, m)
	}
	set(body, "children", children)
	msg := govici.NewMessage()
	set(msg, c.Name, body)
	return msg, nil
}

// PoolMessage builds the load-pool message for p.
func PoolMessage(p *plan.Pool) *govici.Message {
	body := govici.NewMessage()
	set(body, "addrs", p.Addrs.String())
	var dns []string
	for _, d := range p.DNS {
		dns = append(dns, d.String())
	}
	set(body, "dns", dns)
	msg := govici.NewMessage()
	set(msg, p.Name, body)
	return msg
}

// SharedMessage builds the load-shared message for a secret whose
// decoded value is data.
func SharedMessage(s *plan.Secret, data []byte) *govici.Message {
	m := govici.NewMessage()
	set(m, "id", s.Name)
	typ := "IKE"
	if s.Kind == "eap" {
		typ = "EAP"
	}
	set(m, "type", typ)
	set(m, "data", string(data))
	set(m, "owners", s.IDs)
	return m
}
