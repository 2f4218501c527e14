// Package suggest finds the word the user probably meant ("did you mean
// ...?") for the diagnostics of every styx parser.
package suggest
