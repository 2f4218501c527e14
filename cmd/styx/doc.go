// Command styx turns one declarative description of an IPsec network into
// working, verified Linux gateways built on strongSwan. See "styx help".
package main
