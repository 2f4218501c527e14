package vm

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// QEMU is the emulator binary.
const QEMU = "qemu-system-x86_64"

// Kernel finds the newest Debian -amd64 kernel and its modules.
func Kernel() (version, image string, err error) {
	entries, err := os.ReadDir("/lib/modules")
	if err != nil {
		return "", "", fmt.Errorf("no kernel modules: %w (apt-get install linux-image-amd64)", err)
	}
	var vers []string
	for _, e := range entries {
		if strings.HasSuffix(e.Name(), "-amd64") {
			if _, err := os.Stat("/boot/vmlinuz-" + e.Name()); err == nil {
				vers = append(vers, e.Name())
			}
		}
	}
	if len(vers) == 0 {
		return "", "", errors.New("no Debian -amd64 kernel in /boot (apt-get install linux-image-amd64)")
	}
	sort.Strings(vers)
	v := vers[len(vers)-1]
	return v, "/boot/vmlinuz-" + v, nil
}

// Available reports why the VM tier cannot run here, or nil.
func Available() error {
	if _, err := exec.LookPath(QEMU); err != nil {
		return errors.New("qemu-system-x86_64 not found (apt-get install qemu-system-x86)")
	}
	if _, _, err := Kernel(); err != nil {
		return err
	}
	if _, err := busybox(); err != nil {
		return err
	}
	for _, b := range []string{"cpio", "gzip", "modprobe"} {
		if _, err := exec.LookPath(b); err != nil {
			return fmt.Errorf("%s not found", b)
		}
	}
	return nil
}

func busybox() (string, error) {
	for _, p := range []string{"/bin/busybox", "/usr/bin/busybox"} {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", errors.New("busybox not found (apt-get install busybox-static)")
}

// initScript is /init of the initramfs: load the 9p modules, mount the
// host root read-only, keep the host's /tmp and /var/tmp visible under
// HostDirs, put tmpfs on what must be writable, switch to the guest script
// named by styx.init=.
const initScript = `#!/bin/busybox sh
/bin/busybox --install -s /bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
for m in $(cat /lib/modules/order); do insmod /lib/modules/$m; done
mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144 host0 /newroot || { echo "STYX-VM: 9p mount failed"; poweroff -f; }
mount -t tmpfs tmpfs /newroot/var/lib
for d in tmp var/tmp; do mkdir -p /newroot` + HostDirs + `/$d; mount --bind /newroot/$d /newroot` + HostDirs + `/$d; done
for d in run tmp var/tmp var/log; do mount -t tmpfs tmpfs /newroot/$d; done
mount --move /dev /newroot/dev; mount --move /proc /newroot/proc; mount --move /sys /newroot/sys
GUEST=$(sed -n 's/.*styx\.init=\([^ ]*\).*/\1/p' /newroot/proc/cmdline)
exec switch_root /newroot "$GUEST"
`

// HostDirs is where the guest sees the host's /tmp and /var/tmp (read-only),
// which are tmpfs of its own there. It is not under /run, which lab exec
// replaces with a gateway's private /run.
const HostDirs = "/var/lib/styx-host"

// GuestPath returns the path under which the guest sees the host path p
// (absolute): p itself, or for p under /tmp or /var/tmp the same path under
// HostDirs. It fails for the other directories that are tmpfs in the guest
// (/run, /var/lib, /var/log), whose host contents the guest does not see.
func GuestPath(p string) (string, error) {
	clean := filepath.Clean(p)
	for _, d := range []string{"/tmp", "/var/tmp"} {
		if clean == d || strings.HasPrefix(clean, d+"/") {
			return HostDirs + clean, nil
		}
	}
	for _, d := range []string{"/run", "/var/lib", "/var/log"} {
		if clean == d || strings.HasPrefix(clean, d+"/") {
			return "", fmt.Errorf("%s is under %s, which the VM does not see (it is a tmpfs there)", p, d)
		}
	}
	return clean, nil
}

// BuildInitramfs writes a minimal initramfs for kernel version kver to out.
func BuildInitramfs(ctx context.Context, kver, out string) error {
	dir, err := os.MkdirTemp("", "styx-initramfs-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	for _, d := range []string{"bin", "dev", "proc", "sys", "newroot", "lib/modules"} {
		os.MkdirAll(filepath.Join(dir, d), 0o755)
	}
	bb, err := busybox()
	if err != nil {
		return err
	}
	if err := copyFile(bb, filepath.Join(dir, "bin/busybox"), 0o755); err != nil {
		return err
	}
	deps, err := exec.CommandContext(ctx, "modprobe", "-a", "-S", kver, "--show-depends", "virtio_pci", "9pnet_virtio", "9p").Output()
	if err != nil {
		return fmt.Errorf("modprobe --show-depends: %w", err)
	}
	var order []string
	seen := map[string]bool{}
	for _, line := range strings.Split(string(deps), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || f[0] != "insmod" || seen[f[1]] {
			continue
		}
		seen[f[1]] = true
		name := filepath.Base(f[1])
		if err := copyFile(f[1], filepath.Join(dir, "lib/modules", name), 0o644); err != nil {
			return err
		}
		order = append(order, name)
	}
	os.WriteFile(filepath.Join(dir, "lib/modules/order"), []byte(strings.Join(order, "\n")+"\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "init"), []byte(initScript), 0o755)
	cmd := exec.CommandContext(ctx, "sh", "-c", "find . | cpio -o -H newc --quiet | gzip -1 > "+shellQuote(out))
	cmd.Dir = dir
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("cpio: %v: %s", err, b)
	}
	return nil
}

func copyFile(src, dst string, mode os.FileMode) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, b, mode)
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// guestScript runs inside the VM as PID 1.
const guestScript = `#!/bin/sh
export PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/tmp STYX_IN_VM=1
up() { cut -d' ' -f1 /proc/uptime; }
echo "STYX-VM: userspace at $(up)s, kernel $(uname -r)"
for m in {{MODULES}}; do modprobe -q $m; done
ip link set lo up
cd {{WORKDIR}}
{{COMMAND}}
echo "STYX-VM-EXIT $?"
echo "STYX-VM: done at $(up)s"
echo o > /proc/sysrq-trigger
sleep 30
`

// guestModules are the kernel modules the guest loads for the lab.
const guestModules = "veth bridge tun esp4 esp6 xfrm_user xfrm_interface ip_vti ip6_vti ip_gre nf_tables nft_chain_nat nft_nat nft_ct nft_xfrm nft_fib nft_limit nft_log xt_policy"

// DefaultDir holds the files of running VMs (initramfs, guest script,
// session control directories): on the host root, outside the directories
// that are tmpfs in the guest. It is removed when no VM runs.
const DefaultDir = "/var/cache/styx/vm"

// Options configure a VM run.
type Options struct {
	// Dir holds the initramfs and the guest script (must be visible to the
	// guest, i.e. on the host root file system; not under /tmp, which is a
	// tmpfs in the guest).
	Dir string
	// Args are the styx arguments run in the guest, e.g.
	// ["lab", "up", "/abs/file.yaml", "--dataplane", "kernel", "--test", "--down"].
	Styx string
	Args []string
	// Workdir is the guest's working directory (the user's).
	Workdir string
	Memory  int // MiB, default 1536
	CPUs    int // default 2
	Timeout time.Duration
	Out     io.Writer
}

func (o *Options) defaults() {
	if o.Memory == 0 {
		o.Memory = 1536
	}
	if o.CPUs == 0 {
		o.CPUs = 2
	}
	if o.Timeout == 0 {
		o.Timeout = 20 * time.Minute
	}
	if o.Dir == "" {
		o.Dir = DefaultDir
	}
}

// initramfs builds the initramfs for kernel kver in dir (it takes about a
// second; nothing is cached, so that nothing stays behind).
func initramfs(ctx context.Context, o Options, kver, dir string) (string, error) {
	initrd := filepath.Join(dir, "initramfs-"+kver+".cpio.gz")
	t0 := time.Now()
	fmt.Fprintf(o.Out, "  building the VM initramfs for %s", kver)
	if err := BuildInitramfs(ctx, kver, initrd); err != nil {
		return "", err
	}
	fmt.Fprintf(o.Out, " %.2fs\n", time.Since(t0).Seconds())
	return initrd, nil
}

// privateStyx copies the styx binary into dir (on the host root, so the
// guest sees it at the same path) and returns the copy's path: the guest
// runs the copy, so rebuilding styx on the host cannot change a binary
// under the running VM's feet.
func privateStyx(styx, dir string) (string, error) {
	b, err := os.ReadFile(styx)
	if err != nil {
		return "", err
	}
	p := filepath.Join(dir, "styx")
	return p, os.WriteFile(p, b, 0o755)
}

// removeBase removes DefaultDir and its parent if they are empty.
func removeBase(dir string) {
	if os.Remove(dir) == nil {
		os.Remove(filepath.Dir(dir))
	}
}

// command is the shell command line of styx with args.
func command(styx string, args []string) string {
	quoted := make([]string, len(args))
	for i, a := range args {
		quoted[i] = shellQuote(a)
	}
	return shellQuote(styx) + " " + strings.Join(quoted, " ")
}

// qemuArgs are the arguments of a VM booting image with initrd and the
// host root read-only, running guest as PID 1.
func qemuArgs(o Options, image, initrd, guest string) []string {
	return []string{"-accel", "tcg,thread=multi", "-cpu", "max",
		"-m", strconv.Itoa(o.Memory), "-smp", strconv.Itoa(o.CPUs),
		"-nodefaults", "-no-user-config", "-display", "none", "-serial", "stdio", "-no-reboot",
		"-kernel", image, "-initrd", initrd,
		"-append", "console=ttyS0 loglevel=3 panic=-1 styx.init=" + guest,
		"-virtfs", "local,path=/,mount_tag=host0,security_model=none,readonly=on,multidevs=remap"}
}

// Run boots the VM, streams its console (prefixed) to Out and returns the
// guest command's exit code.
func Run(ctx context.Context, o Options) (int, error) {
	o.defaults()
	kver, image, err := Kernel()
	if err != nil {
		return -1, err
	}
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return -1, err
	}
	run, err := os.MkdirTemp(o.Dir, "run-")
	if err != nil {
		return -1, err
	}
	defer removeBase(o.Dir)
	defer os.RemoveAll(run)
	initrd, err := initramfs(ctx, o, kver, run)
	if err != nil {
		return -1, err
	}
	if o.Styx, err = privateStyx(o.Styx, run); err != nil {
		return -1, err
	}
	t0 := time.Now()
	script := strings.NewReplacer("{{MODULES}}", guestModules, "{{WORKDIR}}", shellQuote(o.Workdir), "{{COMMAND}}", command(o.Styx, o.Args)).Replace(guestScript)
	guest := filepath.Join(run, "guest.sh")
	if err := os.WriteFile(guest, []byte(script), 0o755); err != nil {
		return -1, err
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, QEMU, qemuArgs(o, image, initrd, guest)...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return -1, err
	}
	cmd.Stderr = cmd.Stdout
	cmd.Stdin = nil
	fmt.Fprintf(o.Out, "  booting %s under QEMU (software emulation, %d MiB, %d CPUs)\n", kver, o.Memory, o.CPUs)
	if err := cmd.Start(); err != nil {
		return -1, fmt.Errorf("qemu: %w", err)
	}
	exit := -1
	exitRE := regexp.MustCompile(`STYX-VM-EXIT (\d+)`)
	sc := bufio.NewScanner(stdout)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	finished := false
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if m := exitRE.FindStringSubmatch(line); m != nil {
			exit, _ = strconv.Atoi(m[1])
			continue
		}
		// the power-off after the result is the kernel's business
		if finished || strings.TrimSpace(line) == "" {
			continue
		}
		finished = strings.HasPrefix(line, "STYX-VM: done")
		fmt.Fprintf(o.Out, "  [vm %6.1fs] %s\n", time.Since(t0).Seconds(), line)
	}
	werr := cmd.Wait()
	if ctx.Err() != nil {
		return -1, fmt.Errorf("the VM did not finish within %s (killed)", o.Timeout)
	}
	if exit < 0 {
		return -1, fmt.Errorf("the VM stopped without reporting a result (qemu: %v)", werr)
	}
	fmt.Fprintf(o.Out, "  VM finished in %.1fs\n", time.Since(t0).Seconds())
	return exit, nil
}
