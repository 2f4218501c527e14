package lab

import (
	"context"
	"strings"

	"github.com/styx-vpn/styx/internal/netns"
)

// DetectDataplane reports whether this kernel can install ESP SAs, by
// trying to add one in a throw-away namespace. It returns "kernel" or
// "libipsec" and the reason.
func DetectDataplane(ctx context.Context) (string, string) {
	ns := netns.TempName("esp")
	if err := netns.Add(ctx, ns); err != nil {
		return "libipsec", "cannot create a namespace to probe the kernel: " + err.Error()
	}
	defer netns.Delete(context.Background(), ns)
	out, err := netns.Run(ctx, ns, "ip", "xfrm", "state", "add", "src", "192.0.2.1", "dst", "192.0.2.2",
		"proto", "esp", "spi", "0x100", "mode", "tunnel", "aead", "rfc4106(gcm(aes))", "0x0102030405060708091011121314151617181920", "128")
	if err != nil {
		reason := strings.TrimSpace(string(out))
		return "libipsec", "the kernel has no ESP (" + reason + "); using strongSwan's kernel-libipsec (user-space ESP over TUN ipsec0)"
	}
	return "kernel", "the kernel has ESP: using the kernel data plane"
}
