package vm

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestSessionExec runs the control protocol on this host: Serve takes the
// requests Exec drops, runs them in parallel, streams their output and
// returns their exit status; a poweroff request ends Serve.
func TestSessionExec(t *testing.T) {
	dir := t.TempDir()
	served := make(chan error, 1)
	go func() { served <- Serve(dir) }()
	s := &Session{Dir: dir, PID: os.Getpid(), cmd: os.Args[0]}
	ctx := context.Background()

	var b strings.Builder
	code, err := s.Exec(ctx, []string{"sh", "-c", "echo one; sleep 0.3; echo two >&2; exit 3"}, &b)
	if err != nil || code != 3 || b.String() != "one\ntwo\n" {
		t.Errorf("Exec = %d, %v, output %q; want 3, nil, \"one\\ntwo\\n\"", code, err, b.String())
	}
	code, err = s.Exec(ctx, []string{"/nonexistent/styx"}, &b)
	if err != nil || code != 127 {
		t.Errorf("missing command: %d, %v", code, err)
	}

	// two at once: the second does not wait for the first
	var wg sync.WaitGroup
	t0 := time.Now()
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var out strings.Builder
			if code, err := s.Exec(ctx, []string{"sleep", "1"}, &out); code != 0 || err != nil {
				t.Errorf("sleep: %d %v", code, err)
			}
		}()
	}
	wg.Wait()
	if d := time.Since(t0); d > 1900*time.Millisecond {
		t.Logf("two parallel 1 s commands took %s (serialised?)", d)
	}
	left, _ := filepath.Glob(filepath.Join(dir, "*"))
	if len(left) != 0 {
		t.Errorf("files left in the control directory: %v", left)
	}

	os.WriteFile(filepath.Join(dir, "poweroff.req"), []byte(`{"argv":["poweroff"]}`), 0o600)
	select {
	case err := <-served:
		if err != nil {
			t.Errorf("Serve: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not stop on poweroff")
	}

	// the VM gone: Exec says so instead of waiting forever
	s.PID = 1 << 30
	if _, err := s.Exec(ctx, []string{"true"}, &b); err == nil || !strings.Contains(err.Error(), "not running") {
		t.Errorf("Exec without a VM: %v", err)
	}
}

// TestAliveJustStarted: a VM this process just started counts as alive
// until it exits (its /proc command line can read empty for a moment after
// the start, which once made a fresh VM look dead).
func TestAliveJustStarted(t *testing.T) {
	for range 20 {
		cmd := exec.Command("sleep", "5")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		s := &Session{PID: cmd.Process.Pid, cmd: "sleep", exited: make(chan error, 1)}
		go func() { s.exited <- cmd.Wait() }()
		if !s.Alive() {
			t.Fatal("a process just started is not alive")
		}
		cmd.Process.Kill()
		for s.Alive() {
			time.Sleep(10 * time.Millisecond)
		}
		if s.exitErr == nil {
			t.Error("no exit status recorded")
		}
	}
}

// TestOpenSessionLeftBehind: a control directory without a live qemu (a
// crash before or after the start) is a session that is not alive, and
// Stop removes it, so that lab down can clean up.
func TestOpenSessionLeftBehind(t *testing.T) {
	sessionBase = filepath.Join(t.TempDir(), "vm")
	t.Cleanup(func() { sessionBase = DefaultDir })
	if _, ok := OpenSession("x"); ok {
		t.Fatal("a session without a directory")
	}
	dir := SessionDir("x")
	os.MkdirAll(dir, 0o700)
	for _, pid := range []string{"", "1073741823\n"} { // no pid file; a pid that is gone
		if pid != "" {
			os.WriteFile(filepath.Join(dir, "qemu.pid"), []byte(pid), 0o600)
		}
		s, ok := OpenSession("x")
		if !ok || s.Alive() {
			t.Fatalf("pid %q: OpenSession = %v, alive %v", pid, ok, ok && s.Alive())
		}
	}
	s, _ := OpenSession("x")
	if err := s.Stop(time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("%s still there: %v", dir, err)
	}
	t.Setenv(InGuest, "1")
	os.MkdirAll(dir, 0o700)
	if _, ok := OpenSession("x"); ok {
		t.Error("inside a VM, the host's control directories are no sessions")
	}
}
