#!/bin/sh
# links and routes for gateway v3-2, rendered by styx from s2-route-based-bgp.yaml -- do not edit.
set -e
# idempotent: devices that exist are kept, addresses and routes are replaced
# v1-1-v3-2; mtu 1423 = 1500 - 77 (ESP overhead 77 (IPv6 40 + ESP 8 + IV 8 + pad 5 + ICV 16))
ip link show styx55618 >/dev/null 2>&1 || ip link add styx55618 type xfrm if_id 55618
ip link set styx55618 mtu 1423 up
# v1-2-v3-2; mtu 1423 = 1500 - 77 (ESP overhead 77 (IPv6 40 + ESP 8 + IV 8 + pad 5 + ICV 16))
ip link show styx35651 >/dev/null 2>&1 || ip link add styx35651 type xfrm if_id 35651
ip link set styx35651 mtu 1423 up
# v2-1-v3-2; mtu 1423 = 1500 - 77 (ESP overhead 77 (IPv6 40 + ESP 8 + IV 8 + pad 5 + ICV 16))
ip link show styx58859 >/dev/null 2>&1 || ip link add styx58859 type xfrm if_id 58859
ip link set styx58859 mtu 1423 up
# v2-2-v3-2; mtu 1423 = 1500 - 77 (ESP overhead 77 (IPv6 40 + ESP 8 + IV 8 + pad 5 + ICV 16))
ip link show styx12234 >/dev/null 2>&1 || ip link add styx12234 type xfrm if_id 12234
ip link set styx12234 mtu 1423 up
# transfer address of v1-1-v3-2
ip addr replace 2001:db8:ff::4cce:e563/127 dev styx55618
# transfer address of v1-2-v3-2
ip addr replace 2001:db8:ff::f329:e305/127 dev styx35651
# transfer address of v2-1-v3-2
ip addr replace 2001:db8:ff::1:6983:3255/127 dev styx58859
# transfer address of v2-2-v3-2
ip addr replace 2001:db8:ff::66d7:f1b3/127 dev styx12234
# no plaintext fallback for a remote lan
ip route replace unreachable 2001:db8:a1::/64 metric 4000
# no plaintext fallback for a remote lan
ip route replace unreachable 2001:db8:a2::/64 metric 4000
# no plaintext fallback for a remote lan
ip route replace unreachable 2001:db8:a6::cc:1/128 metric 4000
# no plaintext fallback for a remote lan
ip route replace unreachable 2001:db8:a6::cc:5/128 metric 4000
# no plaintext fallback for a remote lan
ip route replace unreachable 2001:db8:a8::/64 metric 4000
