#!/bin/sh
# links and routes for gateway v2-2, rendered by styx from s2-route-based-bgp.yaml -- do not edit.
set -e
# idempotent: devices that exist are kept, addresses and routes are replaced
# v1-1-v2-2; mtu 1423 = 1500 - 77 (ESP overhead 77 (IPv6 40 + ESP 8 + IV 8 + pad 5 + ICV 16))
ip link show styx27843 >/dev/null 2>&1 || ip link add styx27843 type xfrm if_id 27843
ip link set styx27843 mtu 1423 up
# v1-2-v2-2; mtu 1423 = 1500 - 77 (ESP overhead 77 (IPv6 40 + ESP 8 + IV 8 + pad 5 + ICV 16))
ip link show styx58722 >/dev/null 2>&1 || ip link add styx58722 type xfrm if_id 58722
ip link set styx58722 mtu 1423 up
# v2-2-v3-1; mtu 1423 = 1500 - 77 (ESP overhead 77 (IPv6 40 + ESP 8 + IV 8 + pad 5 + ICV 16))
ip link show styx64257 >/dev/null 2>&1 || ip link add styx64257 type xfrm if_id 64257
ip link set styx64257 mtu 1423 up
# v2-2-v3-2; mtu 1423 = 1500 - 77 (ESP overhead 77 (IPv6 40 + ESP 8 + IV 8 + pad 5 + ICV 16))
ip link show styx12234 >/dev/null 2>&1 || ip link add styx12234 type xfrm if_id 12234
ip link set styx12234 mtu 1423 up
# transfer address of v1-1-v2-2
ip addr replace 2001:db8:ff::11cb:bcc5/127 dev styx27843
# transfer address of v1-2-v2-2
ip addr replace 2001:db8:ff::2bb1:fa3/127 dev styx58722
# transfer address of v2-2-v3-1
ip addr replace 2001:db8:ff::60d7:e840/127 dev styx64257
# transfer address of v2-2-v3-2
ip addr replace 2001:db8:ff::66d7:f1b2/127 dev styx12234
# no plaintext fallback for a remote lan
ip route replace unreachable 2001:db8:a1::/64 metric 4000
# no plaintext fallback for a remote lan
ip route replace unreachable 2001:db8:a3::/64 metric 4000
# no plaintext fallback for a remote lan
ip route replace unreachable 2001:db8:a6::cc:1/128 metric 4000
# no plaintext fallback for a remote lan
ip route replace unreachable 2001:db8:a6::cc:5/128 metric 4000
