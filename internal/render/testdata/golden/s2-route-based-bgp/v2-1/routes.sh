#!/bin/sh
# links and routes for gateway v2-1, rendered by styx from s2-route-based-bgp.yaml -- do not edit.
set -e
# idempotent: devices that exist are kept, addresses and routes are replaced
# v1-2-v2-1; mtu 1423 = 1500 - 77 (ESP overhead 77 (IPv6 40 + ESP 8 + IV 8 + pad 5 + ICV 16))
ip link show styx45225 >/dev/null 2>&1 || ip link add styx45225 type xfrm if_id 45225
ip link set styx45225 mtu 1423 up
# v2-1-v3-1; mtu 1423 = 1500 - 77 (ESP overhead 77 (IPv6 40 + ESP 8 + IV 8 + pad 5 + ICV 16))
ip link show styx54360 >/dev/null 2>&1 || ip link add styx54360 type xfrm if_id 54360
ip link set styx54360 mtu 1423 up
# v2-1-v3-2; mtu 1423 = 1500 - 77 (ESP overhead 77 (IPv6 40 + ESP 8 + IV 8 + pad 5 + ICV 16))
ip link show styx58859 >/dev/null 2>&1 || ip link add styx58859 type xfrm if_id 58859
ip link set styx58859 mtu 1423 up
# transfer address of v1-2-v2-1
ip addr replace 2001:db8:ff::25b1:631/127 dev styx45225
# transfer address of v2-1-v3-1
ip addr replace 2001:db8:ff::1:6783:2f2e/127 dev styx54360
# transfer address of v2-1-v3-2
ip addr replace 2001:db8:ff::1:6983:3254/127 dev styx58859
# no plaintext fallback for a remote lan
ip route replace unreachable 2001:db8:a1::/64 metric 4000
# no plaintext fallback for a remote lan
ip route replace unreachable 2001:db8:a3::/64 metric 4000
# no plaintext fallback for a remote lan
ip route replace unreachable 2001:db8:a6::cc:1/128 metric 4000
# no plaintext fallback for a remote lan
ip route replace unreachable 2001:db8:a6::cc:5/128 metric 4000
