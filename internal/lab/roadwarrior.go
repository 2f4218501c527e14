package lab

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/styx-vpn/styx/internal/apply"
	"github.com/styx-vpn/styx/internal/charon"
	"github.com/styx-vpn/styx/internal/netns"
	"github.com/styx-vpn/styx/internal/pki"
	"github.com/styx-vpn/styx/internal/plan"
	"github.com/styx-vpn/styx/internal/topology"
	"github.com/styx-vpn/styx/internal/vici"
)

// labPKI issues the lab's certificates: one CA stands in for every CA the
// topology names, and gateways and road warriors get certificates for
// their identities. The topology's own certificate files are not used (the
// lab cannot sign for their CA).
type labPKI struct {
	dir string
	ca  *pki.CA
}

func newLabPKI(dir string) (*labPKI, error) {
	ca, err := pki.NewCA("styx lab CA", 24*time.Hour)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	p := &labPKI{dir: dir, ca: ca}
	return p, os.WriteFile(filepath.Join(dir, "ca.crt"), ca.PEM, 0o644)
}

// issue writes a certificate and key for id and returns their paths.
func (p *labPKI) issue(name, id string) (cert, key string, err error) {
	pair, err := p.ca.Issue(id, 24*time.Hour)
	if err != nil {
		return "", "", err
	}
	cert, key = filepath.Join(p.dir, name+".crt"), filepath.Join(p.dir, name+".key")
	if err := os.WriteFile(cert, pair.CertPEM, 0o644); err != nil {
		return "", "", err
	}
	return cert, key, os.WriteFile(key, pair.KeyPEM, 0o600)
}

// gatewayFiles maps the certificate files of a gateway plan to lab files.
func (p *labPKI) gatewayFiles(gw *plan.Gateway) (func(string) ([]byte, error), error) {
	if len(gw.Certs) == 0 || p == nil {
		return func(string) ([]byte, error) { return nil, os.ErrNotExist }, nil
	}
	id := "@" + gw.Name
	for _, c := range gw.Conns {
		if c.Local.Auth == "pubkey" {
			id = c.Local.ID
			break
		}
	}
	cert, key, err := p.issue("gw-"+gw.Name, id)
	if err != nil {
		return nil, err
	}
	byPath := map[string]string{}
	for _, cf := range gw.Certs {
		switch cf.Dir {
		case "x509":
			byPath[cf.Path] = cert
		case "private":
			byPath[cf.Path] = key
		default:
			byPath[cf.Path] = filepath.Join(p.dir, "ca.crt")
		}
	}
	return func(path string) ([]byte, error) {
		if f, ok := byPath[path]; ok {
			return os.ReadFile(f)
		}
		return nil, fmt.Errorf("lab: no stand-in for %s", path)
	}, nil
}

// roadWarrior starts the charon of a road-warrior lab host and connects it
// to its remote access service.
func (l *Lab) roadWarrior(ctx context.Context, h *topology.LabHost, p *labPKI, reader *labSecrets) error {
	n := l.state.Node(h.Name)
	n.Dir = filepath.Join(l.opts.Dir, h.Name)
	ra := h.Client
	g := ra.Gateway
	user := h.User
	if user == "" && len(ra.Users) > 0 {
		user = ra.Users[0].Name
	}
	if user == "" {
		user = h.Name + "@lab.example"
	}
	c := &plan.Conn{
		Name: ra.Name, Origin: "lab road warrior " + h.Name, Version: 2,
		RemoteAddrs: addrStrings(g.Public), DPDDelay: ra.DPD, RekeyTime: ra.IKERekey,
		Mobike: true, Unique: "replace", KeyingTries: 1, SendCertReq: true,
		Remote: plan.AuthRound{Auth: "pubkey", ID: g.ID},
	}
	if ra.Crypto != nil {
		c.Proposals = ra.Crypto.IKE
	}
	for _, pool := range ra.Pools {
		if pool.Addr().Is4() {
			c.Vips = append(c.Vips, "0.0.0.0")
		} else {
			c.Vips = append(c.Vips, "::")
		}
	}
	child := &plan.Child{Name: ra.Name, RemoteTS: prefixStrings(ra.Split), Mode: "tunnel", RekeyTime: ra.ChildRekey, StartAction: "none", DPDAction: "clear", CloseAction: "none"}
	child.LifeTime, child.RandTime = plan.ChildTimes(child.RekeyTime)
	if ra.Crypto != nil {
		child.ESPProposals = ra.Crypto.ESP
	}
	c.Children = []*plan.Child{child}
	gw := &plan.Gateway{Name: h.Name, Dataplane: topology.Dataplane(l.state.Dataplane), Conns: []*plan.Conn{c}}
	if ra.Auth == "eap-mschapv2" {
		c.Local = plan.AuthRound{Auth: "eap-mschapv2", ID: user, EAPID: user}
		var pw *topology.Secret
		for _, u := range ra.Users {
			if u.Name == user {
				pw = u.Password
			}
		}
		if pw == nil {
			return fmt.Errorf("lab road warrior %s: user %q is not a user of %s", h.Name, user, ra.Name)
		}
		gw.Secrets = []*plan.Secret{{Name: "eap-" + user, Kind: "eap", IDs: []string{user}, Source: pw}}
	} else {
		cert, key, err := p.issue("rw-"+h.Name, user)
		if err != nil {
			return err
		}
		c.Local = plan.AuthRound{Auth: "pubkey", ID: user, Certs: []string{"rw.crt"}}
		gw.Certs = []plan.CertFile{{Path: cert, Dir: "x509", Name: "rw.crt"}, {Path: key, Dir: "private", Name: "rw.key"}}
	}
	c.Remote.CACerts = []string{"ca.crt"}
	gw.Certs = append(gw.Certs, plan.CertFile{Path: filepath.Join(p.dir, "ca.crt"), Dir: "x509ca", Name: "ca.crt"})
	dp := charon.Libipsec
	if l.state.Dataplane == "kernel" {
		dp = charon.Kernel
	}
	inst, err := charon.Start(ctx, charon.Config{NetNS: n.NS, Dir: n.Dir, Dataplane: dp, Detached: true})
	if err != nil {
		return err
	}
	l.state.Procs = append(l.state.Procs, Proc{Name: "charon " + h.Name, NS: n.NS, PID: inst.PID()})
	l.state.Save(l.opts.Dir)
	d := apply.Desired{Gateway: gw, Secrets: map[string][]byte{}}
	for _, s := range gw.Secrets {
		v, err := reader.ReadSecret(s.Source)
		if err != nil {
			return err
		}
		d.Secrets[s.Name] = v
	}
	client := vici.New(inst.Socket())
	defer client.Close()
	e := &apply.Engine{Store: apply.ViciStore{C: client}, Creds: apply.ViciStore{C: client}, StateDir: filepath.Join(n.Dir, "state"), ReadFile: os.ReadFile}
	if _, err := e.Apply(ctx, d); err != nil {
		return fmt.Errorf("road warrior %s: %w", h.Name, err)
	}
	if err := client.Initiate(ctx, ra.Name, ra.Name); err != nil {
		return fmt.Errorf("road warrior %s could not connect to %s: %w\ncharon log of %s:\n%s\ncharon log of %s:\n%s", h.Name, g.Name, err, h.Name, inst.LogTail(12), g.Name, logTail(l.state.Node(g.Name).Dir, 12))
	}
	// record the virtual IP
	out, _ := netns.Run(ctx, n.NS, "ip", "-o", "addr", "show")
	for _, f := range strings.Fields(string(out)) {
		if pfx, err := netip.ParsePrefix(f); err == nil {
			for _, pool := range ra.Pools {
				if pool.Contains(pfx.Addr()) {
					n.LANAddrs = append(n.LANAddrs, pfx.Addr().String())
				}
			}
		}
	}
	return nil
}

func addrStrings(as []netip.Addr) []string {
	out := make([]string, len(as))
	for i, a := range as {
		out[i] = a.String()
	}
	return out
}

func prefixStrings(ps []netip.Prefix) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.String()
	}
	return out
}
