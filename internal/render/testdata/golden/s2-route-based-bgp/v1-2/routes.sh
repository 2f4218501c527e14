#!/bin/sh
# links and routes for gateway v1-2, rendered by styx from s2-route-based-bgp.yaml -- do not edit.
set -e
# idempotent: devices that exist are kept, addresses and routes are replaced
# v1-2-v2-1; mtu 1423 = 1500 - 77 (ESP overhead 77 (IPv6 40 + ESP 8 + IV 8 + pad 5 + ICV 16))
ip link show styx45225 >/dev/null 2>&1 || ip link add styx45225 type xfrm if_id 45225
ip link set styx45225 mtu 1423 up
# v1-2-v2-2; mtu 1423 = 1500 - 77 (ESP overhead 77 (IPv6 40 + ESP 8 + IV 8 + pad 5 + ICV 16))
ip link show styx58722 >/dev/null 2>&1 || ip link add styx58722 type xfrm if_id 58722
ip link set styx58722 mtu 1423 up
# v1-2-v3-1; mtu 1423 = 1500 - 77 (ESP overhead 77 (IPv6 40 + ESP 8 + IV 8 + pad 5 + ICV 16))
ip link show styx31152 >/dev/null 2>&1 || ip link add styx31152 type xfrm if_id 31152
ip link set styx31152 mtu 1423 up
# v1-2-v3-2; mtu 1423 = 1500 - 77 (ESP overhead 77 (IPv6 40 + ESP 8 + IV 8 + pad 5 + ICV 16))
ip link show styx35651 >/dev/null 2>&1 || ip link add styx35651 type xfrm if_id 35651
ip link set styx35651 mtu 1423 up
# transfer address of v1-2-v2-1
ip addr replace 2001:db8:ff::25b1:630/127 dev styx45225
# transfer address of v1-2-v2-2
ip addr replace 2001:db8:ff::2bb1:fa2/127 dev styx58722
# transfer address of v1-2-v3-1
ip addr replace 2001:db8:ff::f129:dfde/127 dev styx31152
# transfer address of v1-2-v3-2
ip addr replace 2001:db8:ff::f329:e304/127 dev styx35651
# no plaintext fallback for a remote lan
ip route replace unreachable 2001:db8:a2::/64 metric 4000
# no plaintext fallback for a remote lan
ip route replace unreachable 2001:db8:a3::/64 metric 4000
# no plaintext fallback for a remote lan
ip route replace unreachable 2001:db8:a8::/64 metric 4000
