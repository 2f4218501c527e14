// Package diag defines the diagnostics styx reports about topology files:
// a position (file:line:col), a severity, a stable rule id, a message and a
// hint, and their text and JSON renderings.
//
// Diagnostics are data, not strings: every check in styx returns them, and
// only the command line decides how to print them.
package diag
