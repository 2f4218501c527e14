package cli

import "github.com/styx-vpn/styx/internal/render/iptables"

// iptablesRenderer renders the iptables-restore variant of the firewall.
var iptablesRenderer = iptables.Render
