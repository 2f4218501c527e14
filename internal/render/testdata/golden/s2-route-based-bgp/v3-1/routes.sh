#!/bin/sh
# links and routes for gateway v3-1, rendered by styx from s2-route-based-bgp.yaml -- do not edit.
set -e
# idempotent: devices that exist are kept, addresses and routes are replaced
# v1-1-v3-1; mtu 1423 = 1500 - 77 (ESP overhead 77 (IPv6 40 + ESP 8 + IV 8 + pad 5 + ICV 16))
ip link show styx42121 >/dev/null 2>&1 || ip link add styx42121 type xfrm if_id 42121
ip link set styx42121 mtu 1423 up
# v1-2-v3-1; mtu 1423 = 1500 - 77 (ESP overhead 77 (IPv6 40 + ESP 8 + IV 8 + pad 5 + ICV 16))
ip link show styx31152 >/dev/null 2>&1 || ip link add styx31152 type xfrm if_id 31152
ip link set styx31152 mtu 1423 up
# v2-1-v3-1; mtu 1423 = 1500 - 77 (ESP overhead 77 (IPv6 40 + ESP 8 + IV 8 + pad 5 + ICV 16))
ip link show styx54360 >/dev/null 2>&1 || ip link add styx54360 type xfrm if_id 54360
ip link set styx54360 mtu 1423 up
# v2-2-v3-1; mtu 1423 = 1500 - 77 (ESP overhead 77 (IPv6 40 + ESP 8 + IV 8 + pad 5 + ICV 16))
ip link show styx64257 >/dev/null 2>&1 || ip link add styx64257 type xfrm if_id 64257
ip link set styx64257 mtu 1423 up
# transfer address of v1-1-v3-1
ip addr replace 2001:db8:ff::46ce:dbf1/127 dev styx42121
# transfer address of v1-2-v3-1
ip addr replace 2001:db8:ff::f129:dfdf/127 dev styx31152
# transfer address of v2-1-v3-1
ip addr replace 2001:db8:ff::1:6783:2f2f/127 dev styx54360
# transfer address of v2-2-v3-1
ip addr replace 2001:db8:ff::60d7:e841/127 dev styx64257
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
