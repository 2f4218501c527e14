// Package cli implements the styx command line: flag parsing, help texts,
// and the wiring of the pure core (topology, lint, plan, render) to its
// effects (files, secrets, the terminal). cmd/styx only calls Main.
package cli
