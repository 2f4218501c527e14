package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/styx-vpn/styx/internal/topology"
)

func main() {
	net, _, diags, err := topology.Load(os.Args[1])
	src, _ := os.ReadFile(os.Args[1])
	var b strings.Builder
	diags.Sort()
	diags.WriteText(&b, src)
	fmt.Print(b.String())
	fmt.Println(err)
	if net != nil {
		for _, t := range net.Tunnels {
			fmt.Printf("%s %s(init=%v) %s(init=%v) start=%s psk=%v\n", t.Name, t.Ends[0].Gateway.Name, t.Ends[0].Initiator, t.Ends[1].Gateway.Name, t.Ends[1].Initiator, t.Start, t.Auth.PSK)
			for _, c := range t.Children {
				fmt.Println("  ", c.Name, c.TS)
			}
		}
	}
}
