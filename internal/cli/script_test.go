package cli_test

import (
	"encoding/json"
	"errors"
	"flag"
	"os"
	"os/exec"
	"strconv"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/styx-vpn/styx/internal/cli"
)

// update rewrites the expected output in testdata/script/*.txtar from what
// the commands print: go test ./internal/cli -run TestScripts -update
var update = flag.Bool("update", false, "update testscript files from actual output (cmp only)")

// TestMain lets the test binary act as the styx command inside scripts.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"styx": func() {
			os.Exit(cli.Main(os.Args[1:], cli.Env{Stdout: os.Stdout, Stderr: os.Stderr}))
		},
	})
}

// TestScripts runs the command-line scenarios in testdata/script.
//
// Besides the standard testscript commands, scripts may use:
//
//	exits N prog [args...]   run prog, require exit status N; stdout and
//	                         stderr can be inspected afterwards
//	stdout-json              the last command's stdout is one valid JSON value
func TestScripts(t *testing.T) {
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		UpdateScripts:       *update,
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"exits":       cmdExits,
			"stdout-json": cmdStdoutJSON,
		},
	})
}

func cmdExits(ts *testscript.TestScript, neg bool, args []string) {
	if neg {
		ts.Fatalf("exits does not support negation; use a different code")
	}
	if len(args) < 2 {
		ts.Fatalf("usage: exits CODE prog [args...]")
	}
	want, err := strconv.Atoi(args[0])
	if err != nil {
		ts.Fatalf("exits: bad exit code %q", args[0])
	}
	got := 0
	if err := ts.Exec(args[1], args[2:]...); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			ts.Fatalf("exits: %v", err)
		}
		got = ee.ExitCode()
	}
	if got != want {
		ts.Fatalf("%s exited with status %d, want %d", args[1], got, want)
	}
}

func cmdStdoutJSON(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 0 {
		ts.Fatalf("usage: stdout-json")
	}
	var v any
	err := json.Unmarshal([]byte(ts.ReadFile("stdout")), &v)
	switch {
	case err != nil && !neg:
		ts.Fatalf("stdout is not valid JSON: %v", err)
	case err == nil && neg:
		ts.Fatalf("stdout is valid JSON")
	}
}
