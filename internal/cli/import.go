package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"

	"github.com/styx-vpn/styx/internal/crypto"
	"github.com/styx-vpn/styx/internal/importer"
	"github.com/styx-vpn/styx/internal/render"
)

// ImportCmd converts a legacy ipsec.conf (and ipsec.secrets).
type ImportCmd struct {
	File          string   `arg:"" optional:"" name:"ipsec.conf" help:"The ipsec.conf to convert (its includes are read too)." type:"path"`
	Secrets       string   `help:"The ipsec.secrets with the keys (PSK, EAP, XAUTH, key files)." type:"path" placeholder:"FILE"`
	GatewayName   string   `name:"gateway-name" help:"Name of this gateway in the output (default: from its IKE identity)." placeholder:"NAME"`
	LocalAddress  []string `name:"local-address" help:"An address of this gateway (repeatable): the side of a conn with this address is the local one. Default: this host's interface addresses." placeholder:"ADDR"`
	LocalID       []string `name:"local-id" help:"An IKE identity of this gateway (repeatable), used when the addresses do not decide." placeholder:"ID"`
	To            string   `help:"What to write: topology (a styx topology fragment) or swanctl (swanctl.conf and its secrets file)." enum:"topology,swanctl" default:"topology"`
	Out           string   `short:"o" help:"Write the files into this directory instead of printing them (secret files get mode 0600)." type:"path" placeholder:"DIR"`
	ShowSecrets   bool     `name:"show-secrets" help:"Print secret values instead of <redacted> when writing to standard output."`
	InlineSecrets bool     `name:"inline-secrets" help:"Topology: write the keys into the fragment (psk: {value: ...}) instead of secret files."`
	Lenient       bool     `help:"Report unknown keys as warnings and skip conns with invalid values, as strongSwan does, instead of failing."`
	Verbose       bool     `short:"v" help:"Also list every setting and what it became in the report."`
	Profile       string   `help:"Crypto lint profile for the report: modern, cnsa or legacy-interop." enum:"modern,cnsa,legacy-interop" default:"modern"`
	ListKeys      bool     `name:"list-keys" help:"Print the table of ipsec.conf keys and their swanctl mapping, and exit."`
}

// Help is the long help of styx import.
func (ImportCmd) Help() string {
	return `Converts a strongSwan ipsec.conf (the stroke interface, which strongSwan 6
no longer builds by default) and its ipsec.secrets into

  --to topology  a styx topology fragment (the default): this gateway, its
                 peers as external gateways, one tunnel per IKE connection
                 with its children, remote access blocks; pre-shared keys go
                 to secret files (psk: {file: secrets/<tunnel>.psk}), never
                 into the fragment unless --inline-secrets
  --to swanctl   swanctl.conf and conf.d/secrets.conf, equivalent to the input

The parser follows strongSwan's starter: config setup, conn %default, also=,
include (globs, relative to the including file), comments, quoting, the
indentation rules (settings are indented; an unindented line starts a
section). Left and right are resolved like strongSwan does: the side whose
address is one of --local-address (default: this host's addresses) is
local, then the side whose id is --local-id, else left.

The report goes to standard error (and to DIR/import-report.txt with
--out). It lists everything not carried over one to one: keys without a
swanctl equivalent, semantics that change (auto=route -> trap, proposals
without '!' that also accepted strongSwan's defaults, keyexchange=ike ->
version 0, reauthentication), deprecated and unknown keys, weak crypto (the
styx check rules), weak and reused pre-shared keys, and what
leftfirewall/leftupdown imply for the firewall. Secret values never appear
in it.

Without --out, the result is printed to standard output with secrets
replaced by <redacted> (unless --show-secrets): the fragment as YAML, or
swanctl.conf and the secrets file under "==> FILE <==" headings. With --out
DIR, the files are written there:

  topology: DIR/topology.yaml, DIR/secrets/<tunnel>.psk (mode 0600)
  swanctl:  DIR/swanctl.conf, DIR/conf.d/secrets.conf (mode 0600)

Nothing is written or printed if the conversion has errors.

Exit status: 0 converted (warnings allowed), 1 conversion problems (unknown
keys, invalid values, an ambiguous local side), 2 the input cannot be read
or parsed.

Examples:
  styx import /etc/ipsec.conf --secrets /etc/ipsec.secrets
  styx import ipsec.conf --secrets ipsec.secrets --to swanctl --out /etc/swanctl
  styx import ipsec.conf --local-address 10.1.1.246 --gateway-name vm --out site
  styx import --list-keys`
}

// Run converts.
func (c *ImportCmd) Run(env *Env) error {
	if c.ListKeys {
		fmt.Fprintln(env.Stdout, importer.FormatKeyTable())
		return nil
	}
	if c.File == "" {
		return exitf(ExitUsage, "name the ipsec.conf to convert (styx import ipsec.conf)")
	}
	opts := importer.Options{
		Conf: displayName(c.File), GatewayName: c.GatewayName, LocalIDs: c.LocalID,
		Lenient: c.Lenient, Profile: crypto.Profile(c.Profile),
	}
	if c.Secrets != "" {
		opts.Secrets = displayName(c.Secrets)
	}
	if c.GatewayName != "" && !validName(c.GatewayName) {
		return exitf(ExitUsage, "--gateway-name %q: use 1-31 lower-case letters, digits, '-' or '_'", c.GatewayName)
	}
	for _, s := range c.LocalAddress {
		a, err := netip.ParseAddr(s)
		if err != nil {
			return exitf(ExitUsage, "--local-address %q is not an IP address", s)
		}
		opts.LocalAddrs = append(opts.LocalAddrs, a.Unmap())
	}
	if len(opts.LocalAddrs) == 0 {
		opts.LocalAddrs, opts.AddrsFromInterfaces = interfaceAddrs(), true
	}
	res, err := importer.Import(opts)
	if err != nil {
		var se *importer.SyntaxError
		var pe *fs.PathError
		switch {
		case errors.As(err, &se):
			return exitf(ExitUsage, "%s: %s", se.Pos, se.Msg)
		case errors.As(err, &pe):
			return exitf(ExitUsage, "%s: %s", displayName(pe.Path), readError(pe))
		}
		return exitf(ExitUsage, "%v", err)
	}
	var files []render.File
	var stdout []byte
	redact := c.Out == "" && !c.ShowSecrets
	switch c.To {
	case "swanctl":
		conf, sec, err := res.Swanctl(redact)
		if err != nil {
			return exitf(ExitProblem, "%v", err)
		}
		files = []render.File{
			{Path: "swanctl.conf", Mode: 0o644, Data: conf},
			{Path: "conf.d/secrets.conf", Mode: 0o600, Data: sec, Secret: true},
		}
		for _, f := range files {
			stdout = fmt.Appendf(stdout, "==> %s <==\n%s\n", f.Path, f.Data)
		}
	default:
		frag, secretFiles := res.Topology(importer.TopologyOptions{Inline: c.InlineSecrets, Redact: redact})
		mode := os.FileMode(0o644)
		if c.InlineSecrets {
			mode = 0o600
		}
		files = []render.File{{Path: "topology.yaml", Mode: mode, Data: frag, Secret: c.InlineSecrets}}
		for _, f := range secretFiles {
			files = append(files, render.File{Path: f.Path, Mode: f.Mode, Data: f.Data, Secret: true})
		}
		stdout = frag
	}
	report := res.Report.Text(c.Verbose)
	fmt.Fprint(env.Stderr, report)
	if res.Report.HasErrors() {
		return exitf(ExitProblem, "%s: conversion failed (%s); nothing was written: fix the errors above, or use --lenient for unknown keys", opts.Conf, res.Report.Summary())
	}
	if c.Out == "" {
		env.Stdout.Write(stdout)
		return nil
	}
	files = append(files, render.File{Path: "import-report.txt", Mode: 0o644, Data: []byte(report)})
	if err := WriteFiles(c.Out, files); err != nil {
		return exitf(ExitProblem, "%v", err)
	}
	var names []string
	for _, f := range files {
		names = append(names, f.Path)
	}
	fmt.Fprintf(env.Stderr, "wrote %s to %s\n", strings.Join(names, ", "), displayName(filepath.Clean(c.Out)))
	return nil
}

// validName is the topology's name rule.
func validName(s string) bool {
	if len(s) == 0 || len(s) > 31 {
		return false
	}
	for i, r := range s {
		ok := r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || i > 0 && (r == '-' || r == '_')
		if !ok {
			return false
		}
	}
	return true
}

// interfaceAddrs returns this host's addresses (what strongSwan compares
// left and right with).
func interfaceAddrs() []netip.Addr {
	ifs, err := net.InterfaceAddrs()
	if err != nil {
		return nil
	}
	var out []netip.Addr
	for _, a := range ifs {
		if p, err := netip.ParsePrefix(a.String()); err == nil {
			out = append(out, p.Addr().Unmap())
		}
	}
	return out
}
