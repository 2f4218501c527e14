package charon

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Binary paths (Debian).
const (
	DaemonPath  = "/usr/lib/ipsec/charon"
	SwanctlPath = "/usr/sbin/swanctl"
)

// credentialDirs are the directories swanctl --load-all reads.
var credentialDirs = []string{"swanctl/x509", "swanctl/x509ca", "swanctl/x509ocsp", "swanctl/x509aa", "swanctl/x509ac",
	"swanctl/x509crl", "swanctl/pubkey", "swanctl/private", "swanctl/rsa", "swanctl/ecdsa", "swanctl/bliss", "swanctl/pkcs8", "swanctl/pkcs12"}

// Available reports why charon cannot be started here, or nil.
func Available() error {
	for _, p := range []string{DaemonPath, SwanctlPath} {
		if _, err := os.Stat(p); err != nil {
			return fmt.Errorf("%s not found (install strongswan-charon and strongswan-swanctl)", p)
		}
	}
	if os.Geteuid() != 0 {
		return errors.New("charon needs root (network namespaces, bind mounts)")
	}
	return nil
}

// Dataplane selects the IPsec backend plugin.
type Dataplane string

// Data planes.
const (
	Kernel   Dataplane = "kernel"
	Libipsec Dataplane = "libipsec"
)

// Config describes one charon instance.
type Config struct {
	// NetNS is the network namespace to run in ("" = the current one).
	NetNS string
	// Dir holds the instance's files; it must not be under /run.
	Dir       string
	Dataplane Dataplane
	// Fragment is a strongswan.conf fragment (e.g. the rendered
	// strongswan.d/styx.conf) included after the instance settings.
	Fragment []byte
	// Threads defaults to 16 (fewer deadlocks VICI with kernel-libipsec).
	Threads int
	// LogLevel of the file log for the ike/knl/cfg groups (default 2).
	LogLevel int
	// Detached keeps charon running when the starting process exits (the
	// lab); otherwise it is terminated with its parent (tests).
	Detached bool
}

// Plugins is the explicit plugin list (crypto, credentials, EAP, sockets,
// VICI). The kernel backend is prepended per data plane.
const Plugins = "random nonce openssl pem pkcs1 pkcs8 x509 pubkey revocation constraints aes sha1 sha2 hmac gmp curve25519 chapoly gcm kdf attr eap-identity eap-mschapv2 eap-tls socket-default vici"

// Instance is a running charon.
type Instance struct {
	cfg  Config
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

// Dir returns the instance directory.
func (i *Instance) Dir() string { return i.cfg.Dir }

// Socket returns the VICI socket path.
func (i *Instance) Socket() string { return filepath.Join(i.cfg.Dir, "run", "charon.vici") }

// URI returns the VICI URI for swanctl --uri.
func (i *Instance) URI() string { return "unix://" + i.Socket() }

// ConfPath returns the instance's strongswan.conf.
func (i *Instance) ConfPath() string { return filepath.Join(i.cfg.Dir, "strongswan.conf") }

// LogPath returns charon's log file.
func (i *Instance) LogPath() string { return filepath.Join(i.cfg.Dir, "charon.log") }

// PID returns the process id of charon.
func (i *Instance) PID() int { return i.cmd.Process.Pid }

// Conf renders the instance's strongswan.conf.
func Conf(cfg Config) string {
	threads := cfg.Threads
	if threads < 16 {
		threads = 16
	}
	level := cfg.LogLevel
	if level == 0 {
		level = 2
	}
	backend := "kernel-netlink"
	if cfg.Dataplane == Libipsec {
		// libipsec provides the IPsec backend and must come first;
		// kernel-netlink still provides addresses and routes
		backend = "kernel-libipsec kernel-netlink"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# charon instance in netns %q, written by styx\n", cfg.NetNS)
	fmt.Fprintf(&b, "charon {\n    load = %s %s\n    threads = %d\n", backend, Plugins, threads)
	fmt.Fprintf(&b, "    filelog {\n        styx {\n            path = %s\n            time_format = %%T\n            default = 1\n            ike = %d\n            knl = %d\n            cfg = 1\n            append = yes\n            flush_line = yes\n        }\n    }\n", filepath.Join(cfg.Dir, "charon.log"), level, level)
	fmt.Fprintf(&b, "    syslog {\n        daemon {\n            default = -1\n        }\n    }\n")
	fmt.Fprintf(&b, "    plugins {\n        vici {\n            socket = unix://%s\n        }\n    }\n}\n", filepath.Join(cfg.Dir, "run", "charon.vici"))
	fmt.Fprintf(&b, "swanctl {\n    socket = unix://%s\n}\n", filepath.Join(cfg.Dir, "run", "charon.vici"))
	if len(cfg.Fragment) > 0 {
		fmt.Fprintf(&b, "include %s\n", filepath.Join(cfg.Dir, "strongswan.d", "*.conf"))
	}
	return b.String()
}

// Start writes the instance files and starts charon, returning once its
// VICI socket accepts connections (or with the log tail on failure).
func Start(ctx context.Context, cfg Config) (*Instance, error) {
	if strings.HasPrefix(filepath.Clean(cfg.Dir)+"/", "/run/") || strings.HasPrefix(filepath.Clean(cfg.Dir)+"/", "/var/run/") {
		return nil, fmt.Errorf("charon: instance dir %s must not be under /run", cfg.Dir)
	}
	for _, d := range append([]string{"run", "strongswan.d", "swanctl/conf.d"}, credentialDirs...) {
		if err := os.MkdirAll(filepath.Join(cfg.Dir, d), 0o700); err != nil {
			return nil, fmt.Errorf("charon: %w", err)
		}
	}
	if len(cfg.Fragment) > 0 {
		if err := os.WriteFile(filepath.Join(cfg.Dir, "strongswan.d", "styx.conf"), cfg.Fragment, 0o644); err != nil {
			return nil, fmt.Errorf("charon: %w", err)
		}
	}
	i := &Instance{cfg: cfg, done: make(chan struct{})}
	if err := os.WriteFile(i.ConfPath(), []byte(Conf(cfg)), 0o644); err != nil {
		return nil, fmt.Errorf("charon: %w", err)
	}
	os.Remove(i.Socket())
	os.Remove(filepath.Join(cfg.Dir, "run", "charon.pid"))
	script := fmt.Sprintf("mount --bind %s /run && exec %s", shellQuote(filepath.Join(cfg.Dir, "run")), DaemonPath)
	args := []string{"sh", "-c", script}
	if cfg.NetNS != "" {
		args = append([]string{"ip", "netns", "exec", cfg.NetNS}, args...)
	} else {
		args = append([]string{"unshare", "--mount", "--propagation", "private"}, args...)
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(os.Environ(), "STRONGSWAN_CONF="+i.ConfPath())
	out, err := os.OpenFile(filepath.Join(cfg.Dir, "charon.stdout"), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("charon: %w", err)
	}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if !cfg.Detached {
		cmd.SysProcAttr.Pdeathsig = syscall.SIGTERM
	}
	if err := cmd.Start(); err != nil {
		out.Close()
		return nil, fmt.Errorf("charon: start: %w", err)
	}
	out.Close()
	i.cmd = cmd
	go func() { i.err = cmd.Wait(); close(i.done) }()
	if err := os.WriteFile(filepath.Join(cfg.Dir, "charon.pid"), []byte(fmt.Sprintf("%d\n", cmd.Process.Pid)), 0o644); err != nil {
		i.Stop()
		return nil, fmt.Errorf("charon: %w", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := os.Stat(i.Socket()); err == nil {
			return i, nil
		}
		select {
		case <-i.done:
			return nil, fmt.Errorf("charon in %s exited (%v) before its VICI socket appeared:\n%s", cfg.NetNS, i.err, i.LogTail(20))
		case <-ctx.Done():
			i.Stop()
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			i.Stop()
			return nil, fmt.Errorf("charon in %s: no VICI socket after 10s:\n%s", cfg.NetNS, i.LogTail(20))
		}
	}
}

// Running reports whether the process is alive.
func (i *Instance) Running() bool {
	select {
	case <-i.done:
		return false
	default:
		return true
	}
}

// Stop terminates charon (SIGTERM, then SIGKILL after 5 s) and waits.
func (i *Instance) Stop() error {
	if i == nil || i.cmd == nil || i.cmd.Process == nil {
		return nil
	}
	if !i.Running() {
		return nil
	}
	i.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-i.done:
	case <-time.After(5 * time.Second):
		syscall.Kill(-i.cmd.Process.Pid, syscall.SIGKILL)
		i.cmd.Process.Kill()
		<-i.done
	}
	os.Remove(filepath.Join(i.cfg.Dir, "charon.pid"))
	return nil
}

// Kill kills charon without letting it clean up (crash simulation).
func (i *Instance) Kill() {
	if i.Running() {
		syscall.Kill(-i.cmd.Process.Pid, syscall.SIGKILL)
		i.cmd.Process.Kill()
		<-i.done
	}
}

// Swanctl runs swanctl against this instance with its configuration
// directory; it returns combined output.
func (i *Instance) Swanctl(ctx context.Context, args ...string) ([]byte, error) {
	args = append(args, "--uri", i.URI())
	cmd := exec.CommandContext(ctx, SwanctlPath, args...)
	cmd.Env = append(os.Environ(), "STRONGSWAN_CONF="+i.ConfPath(), "SWANCTL_DIR="+filepath.Join(i.cfg.Dir, "swanctl"))
	if i.cfg.NetNS != "" {
		cmd = exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", i.cfg.NetNS, SwanctlPath}, args...)...)
		cmd.Env = append(os.Environ(), "STRONGSWAN_CONF="+i.ConfPath(), "SWANCTL_DIR="+filepath.Join(i.cfg.Dir, "swanctl"))
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if err != nil {
		return out.Bytes(), fmt.Errorf("swanctl %s: %w: %s", strings.Join(args[:len(args)-2], " "), err, strings.TrimSpace(out.String()))
	}
	return out.Bytes(), nil
}

// LogTail returns the last n lines of charon's log and stdout.
func (i *Instance) LogTail(n int) string {
	var parts []string
	for _, f := range []string{"charon.stdout", "charon.log"} {
		b, err := os.ReadFile(filepath.Join(i.cfg.Dir, f))
		if err != nil || len(b) == 0 {
			continue
		}
		lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
		if len(lines) > n {
			lines = lines[len(lines)-n:]
		}
		parts = append(parts, strings.Join(lines, "\n"))
	}
	return strings.Join(parts, "\n")
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
