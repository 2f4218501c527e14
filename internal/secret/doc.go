// Package secret reads the secrets a topology refers to (pre-shared keys,
// EAP passwords) from files and environment variables. It is the only place
// in styx that touches secret values on disk; callers must never print what
// it returns.
package secret
