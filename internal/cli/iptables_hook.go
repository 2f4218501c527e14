package cli

import "github.com/styx-vpn/styx/internal/plan"

// iptablesRenderer renders the iptables-restore variant; nil until the
// iptables renderer is wired in.
var iptablesRenderer func(gw *plan.Gateway, source string) (v4, v6 []byte)
