// Package applytest provides fakes of apply's effects that record what they
// were asked to do and print it as the commands that would have done it.
//
// Each fake keeps the state a real gateway would keep (the objects loaded
// into charon, the styx nftables table, sysctl values) and a log of the
// calls it received, one line per call, written like the command a person
// would type: `get-conns`, `load-conn cloud-sitea`, `unload-shared
// ike-cloud-sitea`, `nft -f -`, `sysctl -w net.ipv4.ip_forward=1`,
// `ip link add xfrm0 type xfrm if_id 1`. Calls that only read are marked
// so that tests can ignore them (Mutations).
//
// Failures are injected per call (Store.FailOn, Firewall.FailOnLoad,
// Sysctls.FailOn, Runner.FailOn); a failed call changes nothing and is
// logged with "(failed: ...)" appended.
//
// Gateway bundles the four fakes with one shared log in call order and
// builds an apply.Engine over them:
//
//	g := applytest.NewGateway()
//	e := g.Engine(t.TempDir())
//	_, err := e.Apply(ctx, desired)
//	if got := g.Mutations(); got != want { ... }
package applytest
