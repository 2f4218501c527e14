// Package importer converts legacy strongSwan configurations (ipsec.conf and
// ipsec.secrets, the stroke interface that strongSwan 6 no longer builds by
// default) into swanctl.conf or a styx topology fragment.
//
// The parsers reproduce strongSwan 5.9's starter semantics: the flex/bison
// grammar of src/starter/parser (indented settings, quoting with escapes and
// line continuation, include with globs relative to the including file,
// comments, "version" lines), section merging, also= linearisation with
// %default last, the keyword table and argument checks of confread.c/args.c,
// and the stroke plugin's interpretation (stroke_config.c: left/right
// swapping, proposals with and without '!', lifetimes and margins, DPD and
// close actions, virtual IPs and pools, authentication rounds, merging of
// conns with identical IKE settings into one IKE_SA). ipsec.secrets follows
// stroke_cred.c (quoted, 0x and 0s secrets, selectors with several ids,
// %any, RSA/ECDSA/PKCS8/P12 key references, EAP/XAUTH/NTLM, include).
//
// Nothing is dropped silently: every setting of every loaded conn is either
// mapped, or listed in the Report (no swanctl equivalent, changed semantics,
// deprecated, unknown), and the Report also carries the crypto lint of the
// proposals and pre-shared keys, secrets reused across peers and the
// firewall implications of leftfirewall/leftupdown.
package importer
