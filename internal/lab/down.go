package lab

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/styx-vpn/styx/internal/netns"
)

// Down removes lab id: it stops every process it started (found in
// lab.json and, for a lab left behind by a crash, through `ip netns pids`
// of every styx-<id>- namespace), deletes the namespaces (their veths go
// with them) and the lab directory. It is safe to run twice.
func Down(ctx context.Context, id, dir string, out io.Writer) error {
	say := func(format string, args ...any) {
		if out != nil {
			fmt.Fprintf(out, format+"\n", args...)
		}
	}
	var pids []int
	if st, err := LoadState(dir); err == nil {
		for _, p := range st.Procs {
			pids = append(pids, p.PID)
		}
	}
	spaces := netns.List(netns.Prefix + id + "-")
	for _, ns := range spaces {
		b, _ := netns.Run(ctx, "", "ip", "netns", "pids", ns)
		for _, f := range strings.Fields(string(b)) {
			if pid, err := strconv.Atoi(f); err == nil {
				pids = append(pids, pid)
			}
		}
	}
	stopped := stopAll(pids)
	var errs []string
	for _, ns := range spaces {
		if err := netns.Delete(ctx, ns); err != nil {
			errs = append(errs, err.Error())
		}
	}
	if err := os.RemoveAll(dir); err != nil {
		errs = append(errs, err.Error())
	}
	say("lab %s: stopped %d process(es), removed %d namespace(s) and %s", id, stopped, len(spaces), dir)
	if len(errs) > 0 {
		return fmt.Errorf("lab down: %s", strings.Join(errs, "; "))
	}
	return nil
}

// stopAll sends SIGTERM, waits up to 5 s, then SIGKILLs what is left.
func stopAll(pids []int) int {
	alive := func(pid int) bool { return syscall.Kill(pid, 0) == nil && !isZombie(pid) }
	n := 0
	for _, pid := range pids {
		if pid > 1 && alive(pid) {
			syscall.Kill(pid, syscall.SIGTERM)
			n++
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for _, pid := range pids {
		for pid > 1 && alive(pid) && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if pid > 1 && alive(pid) {
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
	return n
}

func isZombie(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return true
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	return i > 0 && i+2 < len(s) && s[i+2] == 'Z'
}
