package cli_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/alecthomas/kong"

	"github.com/styx-vpn/styx/internal/cli"
)

// TestEveryCommandHasExamples: `styx help <command>` shows examples for
// every command and subcommand a user can run (hidden ones aside).
func TestEveryCommandHasExamples(t *testing.T) {
	var c cli.CLI
	parser, err := kong.New(&c, kong.Name("styx"))
	if err != nil {
		t.Fatal(err)
	}
	var walk func(n *kong.Node)
	seen := 0
	walk = func(n *kong.Node) {
		for _, ch := range n.Children {
			if ch.Hidden || ch.Type != kong.CommandNode {
				continue
			}
			if len(ch.Children) > 0 && !strings.Contains(ch.Help+ch.Detail, "Examples:") {
				// a group: its subcommands are checked below
				walk(ch)
				continue
			}
			seen++
			path := strings.Fields(ch.FullPath())[1:]
			var out, errb bytes.Buffer
			code := cli.Main(append([]string{"help"}, path...), cli.Env{Stdout: &out, Stderr: &errb})
			if code != 0 || !strings.Contains(out.String(), "Examples:") {
				t.Errorf("styx help %s (exit %d) shows no examples:\n%s%s", strings.Join(path, " "), code, out.String(), errb.String())
			}
			walk(ch)
		}
	}
	walk(parser.Model.Node)
	if seen < 10 {
		t.Fatalf("only %d commands found", seen)
	}
}
