package netns

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// Prefix starts the name of every namespace styx creates.
const Prefix = "styx-"

// Add creates namespace name with its loopback up.
func Add(ctx context.Context, name string) error {
	if _, err := Run(ctx, "", "ip", "netns", "add", name); err != nil {
		return err
	}
	if _, err := Run(ctx, "", "ip", "-n", name, "link", "set", "lo", "up"); err != nil {
		Delete(context.Background(), name)
		return err
	}
	return nil
}

// Delete removes namespace name; a missing namespace is not an error.
func Delete(ctx context.Context, name string) error {
	if !Exists(name) {
		return nil
	}
	_, err := Run(ctx, "", "ip", "netns", "del", name)
	return err
}

// Exists reports whether namespace name exists.
func Exists(name string) bool {
	_, err := os.Stat("/run/netns/" + name)
	return err == nil
}

// List returns the namespaces whose names start with prefix.
func List(prefix string) []string {
	entries, err := os.ReadDir("/run/netns")
	if err != nil {
		return nil
	}
	var out []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), prefix) {
			out = append(out, e.Name())
		}
	}
	return out
}

// Run runs a command (in namespace ns unless ns is "") and returns its
// combined output; a failure includes the output in the error.
func Run(ctx context.Context, ns string, name string, args ...string) ([]byte, error) {
	switch {
	case ns != "" && name == "ip":
		// ip enters the namespace itself: one process, no /sys remount
		args = append([]string{"-n", ns}, args...)
	case ns != "":
		args = append([]string{"netns", "exec", ns, name}, args...)
		name = "ip"
	}
	cmd := exec.CommandContext(ctx, name, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return out.Bytes(), fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(out.String()))
	}
	return out.Bytes(), nil
}

var counter atomic.Int64

// TempName returns a unique namespace name for tests: styx-t<pid>-<n>-tag
// (at most 31 characters).
func TempName(tag string) string {
	n := fmt.Sprintf("%st%d-%d-%s", Prefix, os.Getpid(), counter.Add(1), tag)
	if len(n) > 31 {
		n = n[:31]
	}
	return n
}

// Do runs f on the calling goroutine with its OS thread in network
// namespace ns ("" runs f as is). Files f opens under /proc/sys/net are
// those of ns, as for a process started in it, without starting one. f
// must not hand work to other goroutines that needs ns. If the thread
// cannot be moved back, it is left locked and the runtime discards it.
func Do(ns string, f func() error) error {
	if ns == "" {
		return f()
	}
	target, err := os.Open(filepath.Join("/run/netns", ns))
	if err != nil {
		return fmt.Errorf("netns %s: %w", ns, err)
	}
	defer target.Close()
	runtime.LockOSThread()
	orig, err := os.Open("/proc/thread-self/ns/net")
	if err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("netns: %w", err)
	}
	defer orig.Close()
	if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		return fmt.Errorf("netns %s: setns: %w", ns, err)
	}
	ferr := f()
	if err := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); err != nil {
		return errors.Join(ferr, fmt.Errorf("netns %s: cannot return to the original namespace: %w", ns, err))
	}
	runtime.UnlockOSThread()
	return ferr
}
