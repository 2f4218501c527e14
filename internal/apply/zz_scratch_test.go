package apply_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/styx-vpn/styx/internal/apply"
	"github.com/styx-vpn/styx/internal/plan"
	"github.com/styx-vpn/styx/internal/topology"
	"github.com/styx-vpn/styx/internal/vici"
)

func TestScratch(t *testing.T) {
	net, _, diags, err := topology.Load("../../examples/s1-iot-cloud.yaml")
	if err != nil || net == nil {
		t.Fatal(err, diags)
	}
	gw, err := plan.Build(net, "cloud", plan.Options{})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.MarshalIndent(gw, "", " ")
	fmt.Println(string(b))
	fmt.Println(apply.Commands(gw))
	m, _ := vici.ConnMessage(gw.Conns[0], nil)
	fmt.Println(m.String())
	for _, s := range gw.Secrets { fmt.Printf("%+v %+v\n", s, s.Source) }
}
