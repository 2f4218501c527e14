package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"text/tabwriter"

	"github.com/styx-vpn/styx/internal/secret"
	"github.com/styx-vpn/styx/internal/topology"
)

// SecretsCmd lists the secrets a topology needs and can create missing
// key files.
type SecretsCmd struct {
	File     string `arg:"" help:"Topology file." type:"path"`
	Generate bool   `help:"Create every missing secret file with a random 264-bit key (mode 0600). Never overwrites."`
}

// Help is the long help of styx secrets.
func (SecretsCmd) Help() string {
	return `Lists every secret the topology refers to (pre-shared keys, EAP passwords),
where it comes from and whether it is available here. Values are never
printed.

With --generate, missing secret files are created with a random key
(openssl rand -base64 33 equivalent, written as 0s<base64>, mode 0600).
Environment variables and inline values are not touched.

Examples:
  styx secrets examples/s1-iot-cloud.yaml
  styx secrets --generate examples/s1-iot-cloud.yaml`
}

type secretUse struct {
	name string
	s    *topology.Secret
}

// secretUses lists the secrets of a network, each source once.
func secretUses(net *topology.Network) []secretUse {
	var out []secretUse
	seen := map[string]bool{}
	add := func(name string, s *topology.Secret) {
		if s == nil {
			return
		}
		key := s.File + "\x00" + s.Env + "\x00" + s.Value
		if seen[key] {
			return
		}
		seen[key] = true
		out = append(out, secretUse{name, s})
	}
	for _, t := range net.Tunnels {
		add("tunnel "+t.Name, t.Auth.PSK)
	}
	for _, ra := range net.RemoteAccess {
		for _, u := range ra.Users {
			add("user "+u.Name+" of "+ra.Name, u.Password)
		}
	}
	return out
}

// Run lists or generates secrets.
func (c *SecretsCmd) Run(env *Env) error {
	net, err := loadChecked(env, c.File)
	if err != nil {
		return err
	}
	reader := secretReader(env)
	tw := tabwriter.NewWriter(env.Stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SECRET\tSOURCE\tSTATUS")
	missing := 0
	for _, u := range secretUses(net) {
		status := "ok"
		v, err := reader.ReadSecret(u.s)
		switch {
		case err == nil:
			status = fmt.Sprintf("ok (%d bytes)", len(v))
		case errors.Is(err, fs.ErrNotExist) && u.s.File != "" && c.Generate:
			if gerr := secret.Generate(u.s.File); gerr != nil {
				status = "cannot create: " + gerr.Error()
				missing++
			} else {
				status = "generated"
			}
		case errors.Is(err, fs.ErrNotExist):
			status = "missing"
			missing++
		default:
			status = "unreadable: " + err.Error()
			missing++
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", u.name, u.s.Source(), status)
	}
	tw.Flush()
	if missing > 0 {
		hint := ""
		if !c.Generate {
			hint = "; create them, or run styx secrets --generate for files"
		}
		return exitf(ExitProblem, "%d secret(s) not available%s", missing, hint)
	}
	return nil
}
