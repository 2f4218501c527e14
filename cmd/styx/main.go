// Command styx turns one declarative description of an IPsec network into
// working, verified Linux gateways built on strongSwan. See "styx help".
package main

import (
	"os"

	"github.com/styx-vpn/styx/internal/cli"
)

func main() {
	os.Exit(cli.Main(os.Args[1:], cli.Env{Stdout: os.Stdout, Stderr: os.Stderr}))
}
