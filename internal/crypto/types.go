package crypto

import (
	"fmt"
	"strings"
)

// TargetVersion is the strongSwan version whose proposal parser this package
// reproduces.
const TargetVersion = "5.9.8"

// Profile is a lint strictness profile.
type Profile string

// The lint profiles. Modern is the default.
const (
	Modern Profile = "modern"         // default
	CNSA   Profile = "cnsa"           // strict CNSA 1.0 allow-list
	Legacy Profile = "legacy-interop" // permissive, for old peers
)

// Profiles lists the valid profiles in documentation order.
var Profiles = []Profile{Modern, CNSA, Legacy}

// ParseProfile returns the profile for s or an error listing the valid names.
// Case and surrounding spaces are ignored; the empty string yields Modern,
// the default.
func ParseProfile(s string) (Profile, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	if t == "" {
		return Modern, nil
	}
	for _, p := range Profiles {
		if string(p) == t {
			return p, nil
		}
	}
	return "", fmt.Errorf("unknown crypto profile %q (valid: modern, cnsa, legacy-interop)", s)
}

// index returns the column of p in the classification tables; unknown
// profiles are treated as Modern.
func (p Profile) index() int {
	switch p {
	case CNSA:
		return 1
	case Legacy:
		return 2
	default:
		return 0
	}
}

// Kind says where a proposal is used.
type Kind int

// The proposal kinds: swanctl proposals, esp_proposals and ah_proposals.
const (
	IKE Kind = iota
	ESP
	AH
)

// String returns "IKE", "ESP" or "AH".
func (k Kind) String() string {
	switch k {
	case IKE:
		return "IKE"
	case ESP:
		return "ESP"
	case AH:
		return "AH"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Severity of a finding.
type Severity int

// The severities, from least to most severe.
const (
	Info Severity = iota
	Warning
	Error
)

// String returns "info", "warning" or "error".
func (s Severity) String() string {
	switch s {
	case Info:
		return "info"
	case Warning:
		return "warning"
	case Error:
		return "error"
	}
	return fmt.Sprintf("Severity(%d)", int(s))
}

// Finding is one problem found in a proposal (or PSK).
type Finding struct {
	Severity Severity
	Rule     string // stable rule id, one of the Rule* constants below
	Keyword  string // offending keyword, if any (as written)
	Message  string // one sentence, lower-case start, no trailing period
	Hint     string // what to do instead
}

// String formats the finding as "severity: message [rule] (hint)".
func (f Finding) String() string {
	s := fmt.Sprintf("%s: %s [%s]", f.Severity, f.Message, f.Rule)
	if f.Hint != "" {
		s += " (" + f.Hint + ")"
	}
	return s
}

// The rule ids used in findings.
const (
	RuleWeak       = "weak-crypto"           // a keyword classified F/F°/D under the profile (Error for F, Warning for D)
	RuleInvalid    = "proposal-invalid"      // strongSwan would reject it (P2-P5)
	RuleNoInteg    = "esp-no-integrity"      // P1
	RuleNoPFS      = "no-pfs"                // P7/P8: ESP/AH proposal without KE, or with none
	RuleDefaults   = "proposal-defaults"     // P10: 'default' keyword used, or no proposals at all
	RuleIgnored    = "proposal-ignored"      // P6/P9 info: keywords strongSwan strips
	RuleOrder      = "proposal-order"        // P11 info (modern only)
	RuleIKEv1Multi = "ikev1-multi-algorithm" // P12: IKEv1 proposal with more than one algorithm of a kind
	RulePSKWeak    = "psk-weak"              // PSK too short / low entropy
)

// bySeverity picks the severity for the profile from the modern, cnsa and
// legacy columns of a rule table.
func bySeverity(p Profile, modern, cnsa, legacy Severity) Severity {
	return [3]Severity{modern, cnsa, legacy}[p.index()]
}
