package lab

import (
	"context"
	"strings"
	"testing"
)

// TestUpIDTaken: a lab of another file with the same id is named in the
// error, and nothing is built.
func TestUpIDTaken(t *testing.T) {
	dir := t.TempDir()
	if err := (&State{ID: "s1iotclo", File: "examples/s1-iot-cloud.yaml"}).Save(dir); err != nil {
		t.Fatal(err)
	}
	_, err := Up(context.Background(), nil, "s1-iot-cloudy.yaml", Options{Dir: dir, Agent: "/bin/false"})
	if err == nil || !strings.Contains(err.Error(), `lab id "s1iotclo" is taken by a lab of examples/s1-iot-cloud.yaml`) ||
		!strings.Contains(err.Error(), "styx lab down examples/s1-iot-cloud.yaml") {
		t.Errorf("Up = %v, want the lab that holds the id named", err)
	}
	_, err = Up(context.Background(), nil, "/elsewhere/s1-iot-cloud.yaml", Options{Dir: dir, Agent: "/bin/false"})
	if err == nil || !strings.Contains(err.Error(), `a lab "s1iotclo" is already up`) {
		t.Errorf("Up of the same file = %v, want already up", err)
	}
}
