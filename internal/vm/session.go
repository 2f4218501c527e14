package vm

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// A session is a VM that stays up: it boots, runs `styx lab up`, and then
// runs the commands the host drops into a control directory shared with
// it over a second, writable virtio-9p mount (requests N.req, output N.out,
// exit status N.rc), until it is asked to power off. This is how lab test,
// exec, logs, status and down reach a lab in the VM tier.

// SessionDir is the control directory of the VM session of lab id, on the
// host (and at CtlMount in the guest).
func SessionDir(id string) string { return filepath.Join(sessionBase, "lab-"+id) }

// sessionBase is where session control directories live (DefaultDir;
// tests move it).
var sessionBase = DefaultDir

// CtlMount is where the guest mounts the control directory.
const CtlMount = "/run/styx-ctl"

// sessionScript runs inside the VM as PID 1 in a session.
const sessionScript = `#!/bin/sh
export PATH={{STYXDIR}}:/usr/sbin:/usr/bin:/sbin:/bin HOME=/tmp STYX_IN_VM=1
up() { cut -d' ' -f1 /proc/uptime; }
echo "STYX-VM: userspace at $(up)s, kernel $(uname -r)"
for m in {{MODULES}}; do modprobe -q $m; done
ip link set lo up
mkdir -p {{CTL}}
if mount -t 9p -o trans=virtio,version=9p2000.L,msize=262144 ctl0 {{CTL}}; then
	cd {{WORKDIR}}
	{{COMMAND}}
	rc=$?
	echo "STYX-VM-UP $rc"
	[ $rc -eq 0 ] && {{STYX}} lab-agent vm-serve --dir {{CTL}}
else
	echo "STYX-VM-UP 98"
fi
echo "STYX-VM: done at $(up)s"
echo o > /proc/sysrq-trigger
sleep 30
`

// Session is a running VM session, seen from the host.
type Session struct {
	Dir string
	PID int // qemu
	// cmd is what the process's command line starts with (default QEMU).
	cmd string
	// exited reports qemu's exit when this process started it; dead and
	// exitErr record it.
	exited  chan error
	dead    bool
	exitErr error
}

// InGuest is the environment variable the guest scripts set: inside the
// VM, the host's control directories (visible on its root) are no
// sessions of this system.
const InGuest = "STYX_IN_VM"

// OpenSession returns the session of lab id if its control directory
// exists (the VM may have died, or never started if qemu.pid is missing:
// see Alive; Stop removes what is left). Inside a VM there is none.
func OpenSession(id string) (*Session, bool) {
	if os.Getenv(InGuest) != "" {
		return nil, false
	}
	dir := SessionDir(id)
	if _, err := os.Stat(dir); err != nil {
		return nil, false
	}
	b, _ := os.ReadFile(filepath.Join(dir, "qemu.pid"))
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	return &Session{Dir: dir, PID: pid}, true
}

// Styx is the styx binary the guest runs (a copy taken at the start).
func (s *Session) Styx() string { return filepath.Join(s.Dir, "styx") }

// Alive reports whether the session's qemu runs. For a VM this process
// started, that is whether it has exited; otherwise the process is looked
// up (its command line can read empty for a moment right after the start,
// so the first check is not used for a VM just started).
func (s *Session) Alive() bool {
	if s.exited != nil {
		select {
		case err := <-s.exited:
			s.dead, s.exitErr = true, err
		default:
		}
		return !s.dead
	}
	if s.PID <= 1 || syscall.Kill(s.PID, 0) != nil {
		return false
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", s.PID))
	cmd := s.cmd
	if cmd == "" {
		cmd = QEMU
	}
	return err == nil && strings.HasPrefix(string(b), cmd)
}

// StartSession boots a VM that runs o.Styx o.Args (lab up) and then serves
// commands, as lab id. Console lines are streamed to o.Out (prefixed)
// until the lab is up; it returns the lab up exit status. On a failure,
// a non-zero status or ctx being cancelled, the VM is stopped and its
// files removed.
func StartSession(ctx context.Context, id string, o Options) (s *Session, code int, err error) {
	o.defaults()
	kver, image, err := Kernel()
	if err != nil {
		return nil, -1, err
	}
	dir := SessionDir(id)
	if _, err := os.Stat(dir); err == nil {
		return nil, -1, fmt.Errorf("a VM session for lab %s exists (%s): styx lab down first", id, dir)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		removeBase(filepath.Dir(dir))
		return nil, -1, err
	}
	s = &Session{Dir: dir}
	defer func() {
		if err != nil || code != 0 {
			s.Stop(5 * time.Second)
		}
	}()
	initrd, err := initramfs(ctx, o, kver, dir)
	if err != nil {
		return s, -1, err
	}
	if o.Styx, err = privateStyx(o.Styx, dir); err != nil {
		return s, -1, err
	}
	guest := filepath.Join(dir, "guest.sh")
	script := strings.NewReplacer("{{MODULES}}", guestModules, "{{CTL}}", CtlMount, "{{WORKDIR}}", shellQuote(o.Workdir),
		"{{COMMAND}}", command(o.Styx, o.Args), "{{STYX}}", shellQuote(o.Styx), "{{STYXDIR}}", shellQuote(filepath.Dir(o.Styx))).Replace(sessionScript)
	if err := os.WriteFile(guest, []byte(script), 0o755); err != nil {
		return s, -1, err
	}
	console, err := os.OpenFile(filepath.Join(dir, "console.log"), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return s, -1, err
	}
	defer console.Close()
	args := append(qemuArgs(o, image, initrd, guest), "-virtfs", "local,path="+dir+",mount_tag=ctl0,security_model=none,multidevs=remap")
	cmd := exec.Command(QEMU, args...)
	cmd.Stdout, cmd.Stderr, cmd.Stdin = console, console, nil
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	t0 := time.Now()
	fmt.Fprintf(o.Out, "  booting %s under QEMU (software emulation, %d MiB, %d CPUs), staying up\n", kver, o.Memory, o.CPUs)
	if err := cmd.Start(); err != nil {
		return s, -1, fmt.Errorf("qemu: %w", err)
	}
	s.PID = cmd.Process.Pid
	s.exited = make(chan error, 1)
	go func() { s.exited <- cmd.Wait() }() // reap it if it dies while we watch
	if err := os.WriteFile(filepath.Join(dir, "qemu.pid"), []byte(fmt.Sprintf("%d\n", s.PID)), 0o600); err != nil {
		return s, -1, err
	}
	code, err = s.follow(ctx, filepath.Join(dir, "console.log"), t0, o)
	return s, code, err
}

var upRE = regexp.MustCompile(`STYX-VM-UP (\d+)`)

// follow streams the console until the guest reports the lab up status.
func (s *Session) follow(ctx context.Context, path string, t0 time.Time, o Options) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return -1, err
	}
	defer f.Close()
	r := bufio.NewReader(f)
	var partial string
	deadline := time.Now().Add(o.Timeout)
	for {
		line, err := r.ReadString('\n')
		partial += line
		if err == nil {
			l := strings.TrimRight(partial, "\r\n")
			partial = ""
			if m := upRE.FindStringSubmatch(l); m != nil {
				code, _ := strconv.Atoi(m[1])
				fmt.Fprintf(o.Out, "  VM up in %.1fs\n", time.Since(t0).Seconds())
				return code, nil
			}
			if strings.TrimSpace(l) != "" {
				fmt.Fprintf(o.Out, "  [vm %6.1fs] %s\n", time.Since(t0).Seconds(), l)
			}
			continue
		}
		switch {
		case ctx.Err() != nil:
			return -1, ctx.Err()
		case !s.Alive():
			return -1, fmt.Errorf("the VM stopped before the lab was up (qemu: %v); the end of its console:\n%s", s.exitErr, tail(path, 15))
		case time.Now().After(deadline):
			return -1, fmt.Errorf("the lab was not up within %s", o.Timeout)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// request is one command for the guest.
type request struct {
	Argv []string `json:"argv"`
}

// Exec runs argv in the guest and copies its output (stdout and stderr
// together) to w as it comes; it returns the command's exit status.
func (s *Session) Exec(ctx context.Context, argv []string, w io.Writer) (int, error) {
	id := fmt.Sprintf("%d-%d", time.Now().UnixNano(), os.Getpid())
	base := filepath.Join(s.Dir, id)
	b, _ := json.Marshal(request{Argv: argv})
	if err := os.WriteFile(base+".req.tmp", b, 0o600); err != nil {
		return -1, err
	}
	if err := os.Rename(base+".req.tmp", base+".req"); err != nil {
		return -1, err
	}
	defer os.Remove(base + ".out")
	defer os.Remove(base + ".rc")
	var off int64
	drain := func() {
		f, err := os.Open(base + ".out")
		if err != nil {
			return
		}
		defer f.Close()
		f.Seek(off, io.SeekStart)
		n, _ := io.Copy(w, f)
		off += n
	}
	for {
		drain()
		if rc, err := os.ReadFile(base + ".rc"); err == nil {
			drain()
			return strconv.Atoi(strings.TrimSpace(string(rc)))
		}
		if !s.Alive() {
			return -1, errors.New("the VM is not running (styx lab down removes what is left)")
		}
		select {
		case <-ctx.Done():
			return -1, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Stop asks the guest to power off, waits up to grace, kills qemu if it
// is still there, and removes the control directory.
func (s *Session) Stop(grace time.Duration) error {
	if s.Alive() {
		os.WriteFile(filepath.Join(s.Dir, "poweroff.req"), []byte(`{"argv":["poweroff"]}`), 0o600)
		deadline := time.Now().Add(grace)
		for s.Alive() && time.Now().Before(deadline) {
			time.Sleep(100 * time.Millisecond)
		}
		if s.Alive() {
			syscall.Kill(s.PID, syscall.SIGKILL)
			for i := 0; i < 50 && s.Alive(); i++ {
				time.Sleep(100 * time.Millisecond)
			}
		}
	}
	err := os.RemoveAll(s.Dir)
	removeBase(filepath.Dir(s.Dir))
	return err
}

// Serve runs in the guest: it runs each request dropped into dir (in
// parallel, output to N.out, exit status to N.rc) until a poweroff
// request arrives.
func Serve(dir string) error {
	for {
		entries, err := os.ReadDir(dir)
		if err != nil {
			return err
		}
		names := make([]string, 0, len(entries))
		for _, e := range entries {
			if strings.HasSuffix(e.Name(), ".req") {
				names = append(names, e.Name())
			}
		}
		slices.Sort(names)
		for _, n := range names {
			base := filepath.Join(dir, strings.TrimSuffix(n, ".req"))
			b, err := os.ReadFile(base + ".req")
			os.Remove(base + ".req")
			var req request
			if err == nil {
				err = json.Unmarshal(b, &req)
			}
			if err == nil && slices.Equal(req.Argv, []string{"poweroff"}) {
				return nil
			}
			go serveOne(base, req.Argv, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func serveOne(base string, argv []string, err error) {
	out, ferr := os.Create(base + ".out")
	rc := 0
	switch {
	case ferr != nil:
		rc = 125
	case err != nil || len(argv) == 0:
		fmt.Fprintf(out, "vm: bad request: %v\n", err)
		rc = 125
	default:
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Run(); err != nil {
			var ee *exec.ExitError
			if errors.As(err, &ee) {
				rc = ee.ExitCode()
			} else {
				fmt.Fprintf(out, "vm: %v\n", err)
				rc = 127
			}
		}
	}
	if out != nil {
		out.Close()
	}
	os.WriteFile(base+".rc.tmp", []byte(strconv.Itoa(rc)+"\n"), 0o600)
	os.Rename(base+".rc.tmp", base+".rc")
}

// tail returns the last n lines of a file.
func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return "(" + err.Error() + ")"
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}
