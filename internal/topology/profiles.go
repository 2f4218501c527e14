package topology

// Builtin crypto profiles. Both ends of a styx tunnel use the same list, so
// the first proposal is what gets negotiated; the others are there for
// external peers.
var builtinCrypto = map[string]*Crypto{
	// modern: AEAD with ECDH, PFS on every CHILD_SA (strongSwan's
	// recommendations; RFC 8221/8247 MUST/SHOULD algorithms).
	"modern": {
		Name: "modern", Builtin: true,
		IKE: []string{"aes256gcm16-prfsha384-ecp384", "chacha20poly1305-prfsha256-x25519"},
		ESP: []string{"aes256gcm16-ecp384", "chacha20poly1305-x25519"},
	},
	// cnsa: the CNSA 1.0 suite as strongSwan maps it.
	"cnsa": {
		Name: "cnsa", Builtin: true,
		IKE: []string{"aes256gcm16-prfsha384-ecp384"},
		ESP: []string{"aes256gcm16-ecp384"},
	},
	// compat: for peers without AEAD in IKE (many hardware gateways):
	// AES-CBC with SHA-2 and a 3072-bit or elliptic group; still no weak
	// algorithm.
	"compat": {
		Name: "compat", Builtin: true,
		IKE: []string{"aes256gcm16-prfsha384-ecp384", "aes256-sha384-ecp384", "aes256-sha256-modp3072"},
		ESP: []string{"aes256gcm16-ecp384", "aes256-sha256-ecp384", "aes256-sha256-modp3072"},
	},
}

// BuiltinCrypto returns the names of the built-in crypto profiles.
func BuiltinCrypto() []string { return []string{"cnsa", "compat", "modern"} }

// DefaultCrypto is the profile used when neither a tunnel nor defaults name one.
const DefaultCrypto = "modern"
