package lint_test

import (
	"strings"
	"testing"

	"github.com/styx-vpn/styx/internal/lint"
)

// TestSecretsReadThroughReader checks which secrets lint asks the reader
// for: each source once, never inline values, never user passwords, and
// that no value ends up in a diagnostic.
func TestSecretsReadThroughReader(t *testing.T) {
	src := `styx: 1
gateways:
  cloud: {public: 172.30.30.30, lan: 10.0.0.0/24}
  sitea: {public: 172.16.16.16, lan: 10.1.0.0/24}
  siteb: {public: 172.17.17.17, lan: 10.2.0.0/24}
  sitec: {public: 172.18.18.18, lan: 10.3.0.0/24}
tunnels:
  - hub: cloud
    spokes: [sitea, siteb]
    psk: {file: secrets/shared.psk}
  - between: [cloud, sitec]
    psk: {value: hunter2}
  - between: [sitea, sitec]
    psk: {env: PSK_AC}
  - between: [siteb, sitec]
    psk: {env: PSK_BC}
remote_access:
  - name: rw
    gateway: cloud
    pool: 100.64.0.0/24
    users: {alice: {password: {env: ALICE_PW}}}
`
	weak := "correcthorsebatterystaple"
	secrets := newFakeSecrets("file secrets/shared.psk", key1, "env PSK_AC", weak, "env ALICE_PW", key3)
	diags := check(t, src, lint.Options{Secrets: secrets}, false)

	if got, want := secrets.String(), "read file secrets/shared.psk, env PSK_AC, env PSK_BC, env ALICE_PW"; got != want {
		t.Errorf("reader: %s\nwant:   %s", got, want)
	}
	for _, v := range []string{key1, weak, key3, "hunter2"} {
		for _, d := range diags {
			if strings.Contains(d.Message+d.Hint, v) {
				t.Errorf("diagnostic reveals a secret: %s", d)
			}
		}
		if strings.Contains(secrets.String(), v) {
			t.Errorf("the fake's String() reveals a secret")
		}
	}
	type finding struct{ Pos, Rule, Sev, Tunnel string }
	var got []finding
	for _, d := range diags {
		if d.Rule == "psk-weak" || d.Rule == lint.RulePSKReused || d.Rule == lint.RulePSKInline || d.Rule == lint.RuleSecretMissing {
			tunnel, _, _ := strings.Cut(strings.TrimPrefix(d.Message, "tunnel "), " ")
			got = append(got, finding{d.Pos.String(), d.Rule, d.Severity.String(), strings.TrimSuffix(tunnel, ":")})
		}
	}
	// the strength findings (psk-weak) belong to the crypto package: here
	// only that the weak keys were checked, at their positions
	weakAt := map[string]bool{}
	var rest []finding
	for _, f := range got {
		if f.Rule == "psk-weak" {
			weakAt[f.Pos+" "+f.Tunnel] = true
			continue
		}
		rest = append(rest, f)
	}
	if len(weakAt) != 2 || !weakAt["12:18 cloud-sitec"] || !weakAt["14:16 sitea-sitec"] {
		t.Errorf("psk-weak findings at %v, want 12:18 cloud-sitec and 14:16 sitea-sitec", weakAt)
	}
	got = rest
	want := []finding{
		{"10:17", lint.RulePSKReused, "warning", "cloud-siteb"},
		{"12:18", lint.RulePSKInline, "warning", "cloud-sitec"},
		{"16:16", lint.RuleSecretMissing, "info", "siteb-sitec"},
	}
	if len(got) != len(want) {
		t.Fatalf("secret findings:\n%v\nwant\n%v\nall:\n%s", got, want, formatDiags(diags))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("finding %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

// TestSecretsWithoutReader: with no reader only the locations are
// compared; every source is reported once as not read.
func TestSecretsWithoutReader(t *testing.T) {
	src := `styx: 1
gateways:
  cloud: {public: 172.30.30.30, lan: 10.0.0.0/24}
  sitea: {public: 172.16.16.16, lan: 10.1.0.0/24}
  siteb: {public: 172.17.17.17, lan: 10.2.0.0/24}
tunnels:
  - hub: cloud
    spokes: [sitea, siteb]
    psk: {file: secrets/shared.psk}
`
	diags := check(t, src, lint.Options{}, false)
	var got []string
	for _, d := range diags {
		got = append(got, d.Pos.String()+" "+d.Severity.String()+" "+d.Rule+": "+d.Message)
	}
	want := []string{
		"9:17 warning psk-reused: tunnel cloud-siteb uses the same pre-shared key (file secrets/shared.psk) as tunnel cloud-sitea",
		"9:17 info secret-unavailable: tunnel cloud-sitea: file secrets/shared.psk not read: strength not checked",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("diagnostics:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
