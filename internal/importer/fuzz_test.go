package importer

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParseIPsecConf parses arbitrary ipsec.conf content (with an include
// target and an ipsec.secrets beside it) and, if it parses, converts it to
// swanctl.conf and a topology fragment: nothing may panic.
func FuzzParseIPsecConf(f *testing.F) {
	seeds, _ := filepath.Glob("testdata/*/ipsec.conf")
	for _, s := range seeds {
		if b, err := os.ReadFile(s); err == nil {
			f.Add(string(b))
		}
	}
	for _, s := range []string{
		"", "conn", "conn a\n\tleft", "conn a\n\tx=\"unterminated", "include x\n", "  include\n",
		"conn a\n\talso=a\n", "config setup \n\tuniqueids=no\nca x\n\tcacert=c\n\tauto=add\n",
		"conn a\n\tleftsubnet=10.0.0.0/8[tcp/http],%dynamic[17/1701]\n\tauto=route\n",
		"conn a\n\tright=%any\n\trightsourceip=10.0.0.1-10.0.0.9,%config\n\tauto=add\n",
		"conn a\n\tike=aes256-sha256!\n\tesp=\n\tmark=%unique/0xff\n\tauto=start\n\tleft=%eth0\n",
		"\xff\xfe\x00conn \"q\"\n\t@#x=@#y\r\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, conf string) {
		fsys := MapFS{
			"ipsec.conf":    conf,
			"inc.conf":      "conn inc\n\tauto=add\n",
			"ipsec.secrets": ": PSK 0sdGVzdA==\n@a @b : PSK \"x\"\n: RSA k.pem pass\n",
		}
		if _, err := ParseConf(fsys, "ipsec.conf"); err != nil {
			return
		}
		for _, lenient := range []bool{false, true} {
			res, err := Import(Options{FS: fsys, Conf: "ipsec.conf", Secrets: "ipsec.secrets", Lenient: lenient})
			if err != nil {
				t.Fatalf("parsed, but Import failed: %v", err)
			}
			if _, _, err := res.Swanctl(false); err != nil {
				t.Fatalf("swanctl: %v", err)
			}
			res.Topology(TopologyOptions{})
			_ = res.Report.Text(true)
		}
	})
}
