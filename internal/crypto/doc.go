// Package crypto classifies strongSwan algorithm keywords and lints IPsec
// proposals and pre-shared keys for styx.
//
// The rules follow the project's crypto baseline
// (shared/reference/crypto-baseline.md): the keyword tables of its §2, the
// profiles of §3 (modern, cnsa, legacy-interop), the proposal grammar of §4
// as implemented by strongSwan 5.9.8 (proposal_create_from_string and
// check_proposal), and the PSK guidance of §7.
//
// The target strongSwan version is 5.9.8: keywords that only strongSwan 6.0
// knows (mlkem*, gost*, keN_<method>) are reported as invalid.
//
// The package is pure: it performs no I/O and runs no programs. Findings are
// deterministic, and no finding ever contains any part of a pre-shared key.
package crypto
