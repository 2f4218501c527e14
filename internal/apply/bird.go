package apply

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

// BirdConf and BirdSocket are where Debian's bird2 package keeps the
// configuration and the control socket.
const (
	BirdConf   = "/etc/bird/bird.conf"
	BirdSocket = "/run/bird/bird.ctl"
)

// Bird is the Router backed by BIRD 2: the file Conf, `bird -p` to check
// a configuration and `birdc -s Socket configure` to load it. Commands run
// through R (in the gateway's network namespace in the lab).
type Bird struct {
	Conf   string
	Socket string
	R      Runner
}

// Current reads the configuration file.
func (b Bird) Current(ctx context.Context) ([]byte, bool, error) {
	data, err := os.ReadFile(b.Conf)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	return data, err == nil, err
}

// birdOK are the answers of birdc configure that mean the new
// configuration is in use (or being switched to).
var birdOK = regexp.MustCompile(`(?m)^(Reconfigured|Reconfiguration in progress|Reconfiguration not needed)`)

// Load checks conf with bird -p, writes it over the configuration file
// and runs birdc configure. If BIRD refuses it, the previous file is put
// back and BIRD is told to reload it.
func (b Bird) Load(ctx context.Context, conf []byte) error {
	dir := filepath.Dir(b.Conf)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, ".styx-bird-*.conf")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	_, err = f.Write(conf)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if out, err := b.R.Run(ctx, "bird", "-p", "-c", tmp); err != nil {
		return fmt.Errorf("bird -p: the configuration does not parse: %s", birdMessage(out, err, tmp, b.Conf))
	}
	old, had, err := b.Current(ctx)
	if err != nil {
		return err
	}
	if err := os.Chmod(tmp, 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, b.Conf); err != nil {
		return err
	}
	if err := b.configure(ctx); err != nil {
		if had {
			os.WriteFile(b.Conf, old, 0o644)
			b.configure(ctx)
		} else {
			os.Remove(b.Conf)
		}
		return err
	}
	return nil
}

func (b Bird) configure(ctx context.Context) error {
	out, err := b.R.Run(ctx, "birdc", "-s", b.Socket, "configure")
	if err != nil || !birdOK.Match(out) {
		return fmt.Errorf("birdc configure: %s", birdMessage(out, err, "", ""))
	}
	return nil
}

// birdMessage is BIRD's answer in one line, with a temporary file name
// replaced by the real one.
func birdMessage(out []byte, err error, tmp, real string) string {
	msg := strings.Join(strings.Fields(string(bytes.TrimSpace(out))), " ")
	if tmp != "" {
		msg = strings.ReplaceAll(msg, tmp, real)
	}
	if msg == "" && err != nil {
		msg = err.Error()
	}
	return msg
}

// routerIDLine finds the router id statement of a BIRD configuration.
var routerIDLine = regexp.MustCompile(`(?m)^router id [0-9.]+;$`)

// BirdIdle is the configuration apply loads when a gateway no longer has
// BGP: no protocols other than the device scan, the router id kept from
// the previous configuration prev (BIRD needs one without IPv4 addresses).
func BirdIdle(prev []byte) []byte {
	var b bytes.Buffer
	b.WriteString("# BIRD 2 configuration written by styx: this gateway has no bgp section any more.\n")
	if id := routerIDLine.Find(prev); id != nil {
		b.Write(id)
		b.WriteByte('\n')
	}
	b.WriteString("protocol device {\n}\n")
	return b.Bytes()
}
