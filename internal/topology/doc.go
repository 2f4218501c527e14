// Package topology is styx's model of an IPsec network: the topology file
// format (version 1, YAML), its decoder and the resolved network that every
// other package works from.
//
// Loading happens in two steps. Decode walks the YAML syntax tree into the
// File structs (file.go), which keep every value with its position; it
// reports all schema problems at once (unknown or duplicate keys, wrong
// types, missing fields, bad merge keys) as diagnostics with file:line:col,
// and returns an error wrapping ErrSyntax only when the file is not YAML
// (or is larger than 32 MiB).
// Resolve turns a File into a Network (model.go): gateways with parsed
// addresses and prefixes, tunnels expanded from between:, hub/spokes and
// mesh blocks, children with their traffic selectors, crypto profiles,
// remote access, services, allow flows and lab expectations, with
// references checked and route-based interface ids and transfer addresses
// allocated (resolve_route.go). Load and LoadBytes do both.
//
// The package is pure: it reads no secrets and touches no system state;
// secret references are resolved later (package secret), lint rules live in
// package lint, and plan turns a Network into one gateway's desired state.
package topology
