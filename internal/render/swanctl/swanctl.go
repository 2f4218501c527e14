package swanctl

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/styx-vpn/styx/internal/plan"
	"github.com/styx-vpn/styx/internal/topology"
)

// Header is the first comment of every rendered file.
func header(w *writer, what string, gw *plan.Gateway, source string) {
	w.comment("%s for gateway %s, rendered by styx from %s -- do not edit, run styx render again.", what, gw.Name, source)
	variant := "kernel (kernel-netlink, ESP in the kernel)"
	if gw.Dataplane == topology.Libipsec {
		variant = "libipsec (strongSwan kernel-libipsec, ESP in user space over TUN ipsec0)"
	}
	w.comment("data plane: %s", variant)
	w.blank()
}

// Config renders swanctl.conf: connections and pools, including the
// secrets file from conf.d.
func Config(gw *plan.Gateway, source string) []byte {
	w := &writer{}
	header(w, "swanctl.conf", gw, source)
	if len(gw.Conns) > 0 {
		w.open("connections")
		for i, c := range gw.Conns {
			if i > 0 {
				w.blank()
			}
			conn(w, c)
		}
		w.close()
		w.blank()
	}
	if len(gw.Pools) > 0 {
		w.open("pools")
		for _, p := range gw.Pools {
			w.open(p.Name)
			w.kv("addrs", p.Addrs.String())
			var dns []string
			for _, d := range p.DNS {
				dns = append(dns, d.String())
			}
			w.list("dns", dns)
			w.close()
		}
		w.close()
		w.blank()
	}
	w.comment("secrets live in conf.d/secrets.conf (mode 0600)")
	w.b.WriteString("include conf.d/*.conf\n")
	return []byte(w.b.String())
}

func conn(w *writer, c *plan.Conn) {
	w.comment("%s", c.Origin)
	w.open(c.Name)
	w.kv("version", strconv.Itoa(c.Version))
	w.list("local_addrs", c.LocalAddrs)
	w.list("remote_addrs", c.RemoteAddrs)
	w.list("proposals", c.Proposals)
	w.list("pools", c.Pools)
	w.list("vips", c.Vips)
	if c.DPDDelay > 0 {
		w.kv("dpd_delay", Duration(c.DPDDelay))
	}
	w.kv("rekey_time", Duration(c.RekeyTime))
	w.kv("reauth_time", "0")
	w.bool("mobike", c.Mobike)
	if c.Encap {
		w.bool("encap", true)
	}
	if c.Aggressive {
		w.bool("aggressive", true)
	}
	w.kv("unique", c.Unique)
	w.kv("keyingtries", strconv.Itoa(c.KeyingTries))
	w.kv("send_cert", c.SendCert)
	if !c.SendCertReq {
		w.bool("send_certreq", false)
	}
	round(w, "local", c.Local)
	round(w, "remote", c.Remote)
	w.open("children")
	for _, ch := range c.Children {
		child(w, ch)
	}
	w.close()
	w.close()
}

func round(w *writer, name string, r plan.AuthRound) {
	w.open(name)
	w.kv("auth", r.Auth)
	if r.ID != "" {
		w.kv("id", quote(r.ID))
	}
	if r.EAPID != "" {
		w.kv("eap_id", quote(r.EAPID))
	}
	w.list("certs", r.Certs)
	w.list("cacerts", r.CACerts)
	w.close()
}

func child(w *writer, c *plan.Child) {
	if c.Origin != "" {
		w.comment("%s", c.Origin)
	}
	w.open(c.Name)
	w.list("local_ts", c.LocalTS)
	w.list("remote_ts", c.RemoteTS)
	w.kv("mode", c.Mode)
	w.list("esp_proposals", c.ESPProposals)
	w.kv("rekey_time", Duration(c.RekeyTime))
	if c.LifeTime != 0 {
		w.kv("life_time", Duration(c.LifeTime))
		w.kv("rand_time", Duration(c.RandTime))
	}
	w.kv("start_action", c.StartAction)
	w.kv("dpd_action", c.DPDAction)
	w.kv("close_action", c.CloseAction)
	if c.IfIDIn != 0 {
		w.kv("if_id_in", strconv.FormatUint(uint64(c.IfIDIn), 10))
		w.kv("if_id_out", strconv.FormatUint(uint64(c.IfIDOut), 10))
	}
	if c.MarkIn != 0 {
		w.kv("mark_in", strconv.FormatUint(uint64(c.MarkIn), 10))
		w.kv("mark_out", strconv.FormatUint(uint64(c.MarkOut), 10))
	}
	w.close()
}

// SecretReader reads a secret's value (see package secret).
type SecretReader interface {
	ReadSecret(s *topology.Secret) ([]byte, error)
}

// ErrSecret is wrapped by Secrets when a secret cannot be read.
var ErrSecret = errors.New("secrets unavailable")

// Redacted is written instead of secret values when rendering for display.
const Redacted = "<redacted>"

// Secrets renders the secrets file. With redact, values are replaced by
// <redacted> and nothing is read.
func Secrets(gw *plan.Gateway, source string, r SecretReader, redact bool) ([]byte, error) {
	w := &writer{}
	header(w, "swanctl secrets", gw, source)
	w.comment("keep this file mode 0600")
	if len(gw.Secrets) == 0 {
		w.comment("no secrets: authentication uses certificates")
		return []byte(w.b.String()), nil
	}
	w.open("secrets")
	var missing []error
	for _, s := range gw.Secrets {
		w.open(s.Name)
		if s.Kind == "eap" && len(s.IDs) == 1 {
			w.kv("id", quote(s.IDs[0]))
		} else {
			for i, id := range s.IDs {
				w.kv(fmt.Sprintf("id-%d", i+1), quote(id))
			}
		}
		value := Redacted
		if !redact {
			v, err := r.ReadSecret(s.Source)
			if err != nil {
				missing = append(missing, fmt.Errorf("%s: %v", s.Name, err))
				continue
			}
			value = SecretValue(s, v)
		}
		w.kv("secret", value)
		w.close()
	}
	w.close()
	if len(missing) > 0 {
		return nil, fmt.Errorf("%w (create them with styx secrets --generate, or provide them):\n%w", ErrSecret, errors.Join(missing...))
	}
	return []byte(w.b.String()), nil
}

// SecretValue is how secret s with value v is written in secrets.conf:
// PSKs with EncodeSecret, EAP passwords always base64-encoded, because a
// password is taken literally ("0x1234" is not hex).
func SecretValue(s *plan.Secret, v []byte) string {
	if s.Kind == "eap" {
		return "0s" + base64.StdEncoding.EncodeToString(v)
	}
	return EncodeSecret(v)
}

// EncodeSecret writes a secret so that swanctl reads exactly its bytes:
// values already written as 0x<hex> or 0s<base64> are kept, anything else
// is base64-encoded (no quoting problems with any byte).
func EncodeSecret(v []byte) string {
	s := string(v)
	if isEncoded(s) {
		return s
	}
	return "0s" + base64.StdEncoding.EncodeToString(v)
}

func isEncoded(s string) bool {
	if strings.HasPrefix(s, "0x") && len(s) > 2 {
		for _, c := range s[2:] {
			if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
				return false
			}
		}
		return true
	}
	if strings.HasPrefix(s, "0s") && len(s) > 2 {
		_, err := base64.StdEncoding.DecodeString(s[2:])
		return err == nil
	}
	return false
}

// DecodeSecret returns the bytes a secret stands for: 0x<hex> and
// 0s<base64> are decoded, anything else is taken as is (like swanctl).
func DecodeSecret(v []byte) ([]byte, error) {
	s := string(v)
	switch {
	case strings.HasPrefix(s, "0x"):
		b, err := hex.DecodeString(s[2:])
		if err != nil {
			return nil, errors.New("secret starts with 0x but is not hex")
		}
		return b, nil
	case strings.HasPrefix(s, "0s"):
		b, err := base64.StdEncoding.DecodeString(s[2:])
		if err != nil {
			return nil, errors.New("secret starts with 0s but is not base64")
		}
		return b, nil
	}
	return v, nil
}
