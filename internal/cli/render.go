package cli

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/styx-vpn/styx/internal/diag"
	"github.com/styx-vpn/styx/internal/lint"
	"github.com/styx-vpn/styx/internal/plan"
	"github.com/styx-vpn/styx/internal/render"
	"github.com/styx-vpn/styx/internal/render/swanctl"
	"github.com/styx-vpn/styx/internal/topology"
)

// RenderCmd renders gateway configuration files.
type RenderCmd struct {
	File     string   `arg:"" help:"Topology file." type:"path"`
	Gateway  []string `short:"g" help:"Gateway to render (repeatable)."`
	All      bool     `help:"Render every gateway styx manages, into OUT/<gateway>/."`
	Out      string   `short:"o" help:"Write files into this directory instead of printing them (secrets are then read and written with mode 0600)." type:"path"`
	Only     []string `help:"Render only these files: swanctl, secrets, strongswan, nft, iptables, sysctl, routes, bird." enum:"swanctl,secrets,strongswan,nft,iptables,sysctl,routes,bird"`
	External bool     `help:"Also render external gateways (the other party's side, e.g. for a lab or to send them)."`
}

// Help is the long help of styx render.
func (RenderCmd) Help() string {
	return `Renders, for each selected gateway, everything it needs:

  swanctl/swanctl.conf         connections, children, pools
  swanctl/conf.d/secrets.conf  PSKs and EAP passwords (mode 0600)
  strongswan.d/styx.conf       strongswan.conf fragment for the data plane
  nftables.nft                 table inet styx, replaced atomically
  iptables.rules, ip6tables.rules  the same intent for iptables-restore
  sysctl.conf                  forwarding, redirects, rp_filter ...
  routes.sh                    links, addresses and routes styx owns
  bird.conf                    BIRD 2 (gateways with bgp:): BGP over route-based tunnels

Without --out the files are printed with secrets redacted. The file is
checked first; rendering stops on errors.

Examples:
  styx render examples/s1-iot-cloud.yaml --gateway cloud
  styx render examples/s1-iot-cloud.yaml --gateway sitea --only nft
  styx render examples/s1-iot-cloud.yaml --all --out /tmp/s1`
}

var onlyFiles = map[string][]string{
	"swanctl":    {render.SwanctlConf},
	"secrets":    {render.SecretsConf},
	"strongswan": {render.StrongswanFrg},
	"nft":        {render.NftFile},
	"iptables":   {render.IptablesV4, render.IptablesV6},
	"sysctl":     {render.SysctlFile},
	"routes":     {render.RoutesFile},
	"bird":       {render.BirdConf},
}

// Run renders.
func (c *RenderCmd) Run(env *Env) error {
	net, err := loadChecked(env, c.File)
	if err != nil {
		return err
	}
	var gws []string
	switch {
	case c.All && len(c.Gateway) > 0:
		return exitf(ExitUsage, "use either --gateway or --all")
	case c.All:
		if c.Out == "" {
			return exitf(ExitUsage, "--all writes one directory per gateway: add --out DIR")
		}
		for _, g := range net.Gateways {
			if !g.External || c.External {
				gws = append(gws, g.Name)
			}
		}
	case len(c.Gateway) > 0:
		gws = c.Gateway
	default:
		var names []string
		for _, g := range net.Gateways {
			names = append(names, g.Name)
		}
		return exitf(ExitUsage, "name a gateway with --gateway (one of: %s) or use --all --out DIR", strings.Join(names, ", "))
	}
	reader := secretReader(env)
	for _, name := range gws {
		files, err := RenderGateway(net, name, c.File, reader, c.Out == "", c.External)
		if err != nil {
			return exitf(ExitProblem, "%v", err)
		}
		files = filterFiles(files, c.Only)
		if c.Out == "" {
			for _, f := range files {
				fmt.Fprintf(env.Stdout, "==> %s/%s <==\n%s\n", name, f.Path, f.Data)
			}
			continue
		}
		dir := c.Out
		if c.All || len(gws) > 1 {
			dir = filepath.Join(c.Out, name)
		}
		if err := WriteFiles(dir, files); err != nil {
			return exitf(ExitProblem, "%v", err)
		}
		fmt.Fprintf(env.Stderr, "%s: wrote %d files to %s\n", name, len(files), dir)
	}
	return nil
}

// RenderGateway plans and renders one gateway.
func RenderGateway(net *topology.Network, name, source string, reader swanctl.SecretReader, redact, external bool) ([]render.File, error) {
	gw, err := plan.Build(net, name, plan.Options{External: external})
	if errors.Is(err, plan.ErrExternal) {
		return nil, fmt.Errorf("%w; add --external to render it anyway", err)
	}
	if err != nil {
		return nil, err
	}
	return render.Gateway(gw, render.Options{Source: source, Secrets: reader, Redact: redact, Iptables: iptablesRenderer})
}

func filterFiles(files []render.File, only []string) []render.File {
	if len(only) == 0 {
		return files
	}
	var keep []string
	for _, o := range only {
		keep = append(keep, onlyFiles[o]...)
	}
	return slices.DeleteFunc(files, func(f render.File) bool { return !slices.Contains(keep, f.Path) })
}

// WriteFiles writes rendered files below dir with their modes. Secret
// files are created with mode 0600 from the start (never world-readable,
// not even briefly).
func WriteFiles(dir string, files []render.File) error {
	for _, f := range files {
		path := filepath.Join(dir, f.Path)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		tmp := path + ".tmp"
		if err := os.WriteFile(tmp, f.Data, f.Mode); err != nil {
			return err
		}
		if err := os.Chmod(tmp, f.Mode); err != nil {
			return err
		}
		if err := os.Rename(tmp, path); err != nil {
			return err
		}
	}
	return nil
}

// loadChecked loads and lints a topology, printing diagnostics to stderr;
// it fails if there are errors.
func loadChecked(env *Env, path string) (*topology.Network, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, exitf(ExitUsage, "%s: %s", displayName(path), readError(err))
	}
	name := displayName(path)
	net, file, diags, err := topology.LoadBytes(name, src)
	if err == nil && net != nil {
		diags = append(diags, lint.Run(net, file, lint.Options{Secrets: secretReader(env)})...)
	}
	diags.Sort()
	var errs diag.List
	for _, d := range diags {
		if d.Severity == diag.Error {
			errs = append(errs, d)
		}
	}
	if len(errs) > 0 || err != nil {
		var b strings.Builder
		errs.WriteText(&b, redactSource(src))
		fmt.Fprint(env.Stderr, b.String())
		code := ExitProblem
		if err != nil {
			code = ExitUsage
		}
		return nil, exitf(code, "%s: %s; fix them first (styx check %s)", name, diags.Summary(), name)
	}
	return net, nil
}
