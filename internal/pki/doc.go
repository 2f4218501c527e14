// Package pki creates small X.509 hierarchies for labs and tests: a CA
// and certificates for gateways and road warriors (ECDSA P-384 with
// SHA-384, as the CNSA profile wants). It is not a production CA.
package pki
