package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/alecthomas/kong"

	"github.com/styx-vpn/styx/internal/secret"
)

// Exit codes shared by all commands.
const (
	ExitOK      = 0 // success; for check: no errors (warnings allowed)
	ExitProblem = 1 // the input has errors, or the command failed
	ExitUsage   = 2 // could not read or parse the input, or bad usage
	// ExitDegraded is styx status's answer when a tunnel is not up.
	ExitDegraded = 3
)

// Env is what a command may touch: its output streams and the process
// environment. Tests construct it directly.
type Env struct {
	Stdout, Stderr io.Writer
	Getenv         func(string) (string, bool)
}

// exitError carries an exit code out of a command.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

func exitf(code int, format string, args ...any) error {
	return &exitError{code: code, msg: fmt.Sprintf(format, args...)}
}

// CLI is the command tree.
type CLI struct {
	Check    CheckCmd       `cmd:"" help:"Validate and lint topology files."`
	Render   RenderCmd      `cmd:"" help:"Render gateway configuration files (swanctl, nftables, iptables, sysctl, routes)."`
	Import   ImportCmd      `cmd:"" help:"Convert a legacy ipsec.conf (and ipsec.secrets) to a styx topology or swanctl.conf."`
	Secrets  SecretsCmd     `cmd:"" help:"List the secrets a topology needs; create missing key files."`
	Plan     PlanCmd        `cmd:"" help:"Show what apply would change on a gateway (exit 2 = changes)."`
	Apply    ApplyCmd       `cmd:"" help:"Make a gateway match the topology (charon over VICI, nftables, sysctls, routes)."`
	Status   StatusCmd      `cmd:"" help:"Show SAs, counters and health of a gateway."`
	Lab      LabCmd         `cmd:"" help:"Run the whole network on this host in namespaces, with real strongSwan, and test it."`
	LabAgent LabAgentCmd    `cmd:"" name:"lab-agent" hidden:"" help:"Lab helper run inside namespaces."`
	Wait     ConfirmWaitCmd `cmd:"" name:"confirm-wait" hidden:"" help:"Roll back an unconfirmed apply at its deadline."`
	Help     HelpCmd        `cmd:"" help:"Show help for a command."`
	Version  VersionCmd     `cmd:"" help:"Print the styx version."`
}

const description = `styx turns one description of an IPsec network (a topology file) into
working, verified Linux gateways built on strongSwan.

Examples:
  styx check examples/s1-iot-cloud.yaml
  styx render examples/s1-iot-cloud.yaml --gateway cloud
  sudo styx lab up examples/s1-iot-cloud.yaml --test --down
  sudo styx apply site.yaml --gateway cloud --confirm 2m
  styx status --watch 2s
  styx import /etc/ipsec.conf --secrets /etc/ipsec.secrets

Run "styx help <command>" for more about a command.`

// version is set at build time with -ldflags "-X .../cli.version=...".
var version = "dev"

// Main runs the command line args and returns the exit code.
func Main(args []string, env Env) int {
	if env.Getenv == nil {
		env.Getenv = os.LookupEnv
	}
	var c CLI
	exitCode := -1
	parser, err := kong.New(&c,
		kong.Name("styx"),
		kong.Description(description),
		kong.Writers(env.Stdout, env.Stderr),
		kong.Exit(func(code int) { exitCode = code }),
		kong.ConfigureHelp(kong.HelpOptions{Compact: true, NoExpandSubcommands: true}),
		kong.Bind(&env),
	)
	if err != nil {
		fmt.Fprintf(env.Stderr, "styx: %v\n", err)
		return ExitProblem
	}
	if len(args) == 0 {
		args = []string{"--help"}
	}
	kctx, err := parser.Parse(args)
	if exitCode >= 0 { // --help printed
		return exitCode
	}
	if err != nil {
		fmt.Fprintf(env.Stderr, "styx: %v\n", err)
		var pe *kong.ParseError
		if errors.As(err, &pe) && pe.Context != nil && pe.Context.Selected() != nil {
			fmt.Fprintf(env.Stderr, "run \"styx help %s\" for usage\n", pe.Context.Selected().Name)
		} else {
			fmt.Fprintln(env.Stderr, "run \"styx --help\" for usage")
		}
		return ExitUsage
	}
	err = kctx.Run(&env, parser)
	if exitCode >= 0 {
		return exitCode
	}
	if err != nil {
		var ee *exitError
		if errors.As(err, &ee) {
			if ee.msg != "" {
				fmt.Fprintf(env.Stderr, "styx: %s\n", ee.msg)
			}
			return ee.code
		}
		fmt.Fprintf(env.Stderr, "styx: %v\n", err)
		return ExitProblem
	}
	return ExitOK
}

// HelpCmd prints help for a command.
type HelpCmd struct {
	Command []string `arg:"" optional:"" help:"Command to explain."`
}

// Help returns the detailed help text of the help command itself.
func (HelpCmd) Help() string { return "Examples:\n  styx help check\n  styx help lab up" }

// Run prints the help of the named command.
func (h *HelpCmd) Run(env *Env, parser *kong.Kong) error {
	args := append(append([]string{}, h.Command...), "--help")
	if _, err := parser.Parse(args); err != nil {
		return exitf(ExitUsage, "unknown command %q; commands: %s", strings.Join(h.Command, " "), commandNames(parser))
	}
	return nil
}

func commandNames(parser *kong.Kong) string {
	var names []string
	for _, n := range parser.Model.Children {
		names = append(names, n.Name)
	}
	return strings.Join(names, ", ")
}

// VersionCmd prints the version.
type VersionCmd struct{}

// Help is the long help of styx version.
func (VersionCmd) Help() string { return "Examples:\n  styx version" }

// Run prints the version.
func (VersionCmd) Run(env *Env) error {
	fmt.Fprintf(env.Stdout, "styx %s\n", version)
	return nil
}

// secretReader reads secrets from files and the environment; inside a lab
// (styx lab exec sets STYX_LAB_SECRETS) the lab's generated stand-ins fill
// in for secrets that do not exist.
func secretReader(env *Env) secret.OS {
	dir, _ := env.Getenv("STYX_LAB_SECRETS")
	return secret.OS{Getenv: env.Getenv, Fallback: dir}
}
