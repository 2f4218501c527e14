package cli

import "regexp"

// secretValueRE matches a scalar given to a key that holds a secret value
// (inline psk, value, password, secret), in block or flow style; a value
// that opens a mapping or list ({file: ...}) is not matched.
var secretValueRE = regexp.MustCompile(`((?:^|[\s{,-])(?:psk|value|password|secret)\s*:\s*)("[^"\n]*"|'[^'\n]*'|[^\s{\[,}#][^,}\n#]*)`)

// redactSource replaces inline secret values in a topology file's text, so
// that the source lines printed under diagnostics never show a secret.
func redactSource(src []byte) []byte {
	return secretValueRE.ReplaceAll(src, []byte("${1}<redacted>"))
}
