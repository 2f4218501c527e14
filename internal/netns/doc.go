// Package netns creates and removes named network namespaces (ip netns)
// and runs commands in them. Every namespace styx creates carries the
// prefix Prefix, so that leftovers can be found and removed.
package netns
