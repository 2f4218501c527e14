// Package bird renders a gateway's BGP plan (plan.BGP) as a BIRD 2
// configuration, bird.conf.
//
// Sessions run over the route-based tunnels (seed 002): one `protocol bgp`
// per tunnel with bgp, on the transfer addresses of the tunnel device
// (`direct`, BG1). Learnt routes go to the kernel's main table as ECMP
// routes (`merge paths on`, BG3); nothing else does. The gateway announces
// its bgp export prefixes from a static protocol whose blackhole routes
// only feed the BGP export filter, and, with remote access export_routes,
// charon's routes to connected clients, learnt from kernel table 220 by a
// kernel protocol of their own and piped into the main table (seed 001,
// BG4).
//
// Filters (BG2): nothing is announced or accepted that is a default route,
// a tunnel transfer net or covers an IKE address of a gateway (RT3); a
// neighbor's routes are accepted only inside the prefixes the topology
// says that peer announces, and never inside the gateway's own lan and
// pools. No routes are passed on from one neighbor to another (no
// transit).
//
// The leak guard of RT4 (unreachable routes for the remote prefixes, with a
// worse metric) is rendered by routes.sh; BIRD's kernel routes use metric
// 32 so that they win while they exist.
package bird
