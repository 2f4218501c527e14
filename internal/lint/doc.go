// Package lint checks a resolved topology for designs that strongSwan would
// reject, that are insecure, or that would not carry traffic as intended:
// ambiguous routing between sites, selectors outside the protected
// prefixes, weak or invalid proposals, weak or reused pre-shared keys,
// plaintext leaks while an SA is down, NAT that captures tunnel traffic,
// published services no tunnel carries, and MTUs the encapsulation does not
// fit.
//
// Every rule has a stable id (see Rules) and returns diagnostics with the
// position of the value to change. The package is pure: secrets are read
// through the SecretReader the caller passes.
package lint
