// Package render turns a gateway plan into the files a Linux gateway needs:
// swanctl.conf and its secrets, a strongswan.conf fragment, an nftables
// table, iptables-restore rules, sysctls, and the links and routes styx
// owns. Rendering is pure and deterministic: the same plan gives the same
// bytes. Secrets are read through a SecretReader and appear only in the
// secrets file (mode 0600).
package render
