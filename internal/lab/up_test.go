package lab

import (
	"context"
	"strings"
	"testing"
)

// TestUpIDTaken: a lab of another file with the same id, or another lab
// in the same directory, is named in the error, and nothing is built.
func TestUpIDTaken(t *testing.T) {
	dir := t.TempDir()
	if err := (&State{ID: "s1iotcloud", File: "examples/s1-iot-cloud.yaml"}).Save(dir); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ file, want string }{
		{"s1_iot_cloud.yaml", `lab id "s1iotcloud" is taken by a lab of examples/s1-iot-cloud.yaml, which is up (or left behind)`},
		{"other.yaml", `the lab directory ` + dir + ` holds lab "s1iotcloud" of examples/s1-iot-cloud.yaml; run styx lab down examples/s1-iot-cloud.yaml first, or choose another --dir`},
		{"/elsewhere/s1-iot-cloud.yaml", `a lab "s1iotcloud" is already up`},
	} {
		_, err := Up(context.Background(), nil, tt.file, Options{Dir: dir, Agent: "/bin/false"})
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Up(%s) = %v, want %q", tt.file, err, tt.want)
		}
	}
}

func TestID(t *testing.T) {
	for in, want := range map[string]string{
		"examples/s1-iot-cloud.yaml":                "s1iotcloud",
		"S2_Route-Based.BGP.yaml":                   "s2routebasedbgp",
		"a-very-long-topology-file-name-indeed.yml": "averylongtopologyfilenam",
		"---.yaml": "lab",
	} {
		if got := ID(in); got != want {
			t.Errorf("ID(%q) = %q, want %q", in, got, want)
		}
	}
}
