package vm

import (
	"strings"
	"testing"
)

func TestGuestPath(t *testing.T) {
	for in, want := range map[string]string{
		"/work/styx/examples/s2.yaml": "/work/styx/examples/s2.yaml",
		"/tmp/styx/examples/s2.yaml":  HostDirs + "/tmp/styx/examples/s2.yaml",
		"/var/tmp/x/../styx/a.yaml":   HostDirs + "/var/tmp/styx/a.yaml",
		"/tmp":                        HostDirs + "/tmp",
		"/tmpfoo/a.yaml":              "/tmpfoo/a.yaml",
		"/var/lib/styx/a.yaml":        "error: under /var/lib",
		"/run/a.yaml":                 "error: under /run",
		"/var/log/a.yaml":             "error: under /var/log",
	} {
		got, err := GuestPath(in)
		if strings.HasPrefix(want, "error: ") {
			if err == nil || !strings.Contains(err.Error(), strings.TrimPrefix(want, "error: ")) {
				t.Errorf("GuestPath(%s) = %q, %v; want an error %q", in, got, err, want)
			}
			continue
		}
		if err != nil || got != want {
			t.Errorf("GuestPath(%s) = %q, %v; want %s", in, got, err, want)
		}
	}
}

// TestInitKeepsHostTmp: the init script binds the host's /tmp and
// /var/tmp under HostDirs before it hides them with tmpfs.
func TestInitKeepsHostTmp(t *testing.T) {
	lib := strings.Index(initScript, "mount -t tmpfs tmpfs /newroot/var/lib\n")
	bind := strings.Index(initScript, "mount --bind /newroot/$d /newroot"+HostDirs+"/$d")
	hide := strings.Index(initScript, "for d in run tmp var/tmp var/log; do mount -t tmpfs")
	if lib < 0 || bind < 0 || hide < 0 || !(lib < bind && bind < hide) {
		t.Errorf("init script: /var/lib tmpfs at %d, bind at %d, tmpfs over tmp at %d; want them in that order:\n%s", lib, bind, hide, initScript)
	}
	if !strings.HasPrefix(HostDirs, "/var/lib/") {
		t.Errorf("HostDirs %s must live in the /var/lib tmpfs (lab exec replaces /run)", HostDirs)
	}
}
