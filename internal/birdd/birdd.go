package birdd

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/styx-vpn/styx/internal/netns"
)

// Available reports why BIRD cannot be run here, or nil.
func Available() error {
	for _, b := range []string{"bird", "birdc"} {
		if _, err := exec.LookPath(b); err != nil {
			return fmt.Errorf("%s not found (apt-get install bird2)", b)
		}
	}
	return nil
}

// Instance is a running BIRD.
type Instance struct {
	Conf, Socket, Log string
	cmd               *exec.Cmd
	done              chan struct{}
}

// Start writes a configuration without sessions to conf (with router id
// routerID unless it is empty, e.g. "1.0.1.1", and logging to the file
// beside conf with the extension .log) unless the file exists, and starts
// `bird -f` in network namespace ns (empty: this one) with control socket
// sock. It returns once the socket answers.
func Start(ctx context.Context, ns, conf, sock, routerID string) (*Instance, error) {
	logf := strings.TrimSuffix(conf, filepath.Ext(conf)) + ".log"
	if _, err := os.Stat(conf); errors.Is(err, os.ErrNotExist) {
		var b strings.Builder
		b.WriteString("# BIRD 2 bootstrap configuration: styx apply replaces it\n")
		fmt.Fprintf(&b, "log %q all;\n", logf)
		if routerID != "" {
			fmt.Fprintf(&b, "router id %s;\n", routerID)
		}
		b.WriteString("protocol device {\n}\n")
		if err := os.WriteFile(conf, []byte(b.String()), 0o644); err != nil {
			return nil, fmt.Errorf("bird: %w", err)
		}
	}
	i := &Instance{Conf: conf, Socket: sock, Log: logf, done: make(chan struct{})}
	os.Remove(sock)
	args := []string{"bird", "-f", "-c", conf, "-s", sock}
	if ns != "" {
		args = append([]string{"ip", "netns", "exec", ns}, args...)
	}
	out, err := os.OpenFile(i.Log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("bird: %w", err)
	}
	defer out.Close()
	i.cmd = exec.Command(args[0], args[1:]...)
	i.cmd.Stdout, i.cmd.Stderr = out, out
	i.cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := i.cmd.Start(); err != nil {
		return nil, fmt.Errorf("bird: %w", err)
	}
	go func() { i.cmd.Wait(); close(i.done) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := netns.Run(ctx, "", "birdc", "-s", sock, "show", "status"); err == nil {
			return i, nil
		}
		select {
		case <-i.done:
			b, _ := os.ReadFile(i.Log)
			return nil, fmt.Errorf("bird in %s exited before its control socket answered:\n%s", ns, strings.TrimSpace(string(b)))
		case <-ctx.Done():
			i.Stop()
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			i.Stop()
			return nil, fmt.Errorf("bird in %s: control socket %s not answering after 10s", ns, sock)
		}
	}
}

// PID is the process id of BIRD (or of `ip netns exec`, which execs it).
func (i *Instance) PID() int { return i.cmd.Process.Pid }

// Stop terminates BIRD (SIGTERM, SIGKILL after 5 s) and waits for it.
func (i *Instance) Stop() {
	select {
	case <-i.done:
		return
	default:
	}
	i.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-i.done:
	case <-time.After(5 * time.Second):
		i.cmd.Process.Kill()
		<-i.done
	}
	os.Remove(i.Socket)
}
