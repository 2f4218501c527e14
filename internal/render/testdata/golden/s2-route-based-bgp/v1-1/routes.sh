#!/bin/sh
# links and routes for gateway v1-1, rendered by styx from s2-route-based-bgp.yaml -- do not edit.
set -e
# idempotent: devices that exist are kept, addresses and routes are replaced
# v1-1-v2-2; mtu 1423 = 1500 - 77 (ESP overhead 77 (IPv6 40 + ESP 8 + IV 8 + pad 5 + ICV 16))
ip link show styx27843 >/dev/null 2>&1 || ip link add styx27843 type xfrm if_id 27843
ip link set styx27843 mtu 1423 up
# v1-1-v3-1; mtu 1423 = 1500 - 77 (ESP overhead 77 (IPv6 40 + ESP 8 + IV 8 + pad 5 + ICV 16))
ip link show styx42121 >/dev/null 2>&1 || ip link add styx42121 type xfrm if_id 42121
ip link set styx42121 mtu 1423 up
# v1-1-v3-2; mtu 1423 = 1500 - 77 (ESP overhead 77 (IPv6 40 + ESP 8 + IV 8 + pad 5 + ICV 16))
ip link show styx55618 >/dev/null 2>&1 || ip link add styx55618 type xfrm if_id 55618
ip link set styx55618 mtu 1423 up
# transfer address of v1-1-v2-2
ip addr replace 2001:db8:ff::11cb:bcc4/127 dev styx27843
# transfer address of v1-1-v3-1
ip addr replace 2001:db8:ff::46ce:dbf0/127 dev styx42121
# transfer address of v1-1-v3-2
ip addr replace 2001:db8:ff::4cce:e562/127 dev styx55618
# no plaintext fallback for a remote lan
ip route replace unreachable 2001:db8:a2::/64 metric 4000
# no plaintext fallback for a remote lan
ip route replace unreachable 2001:db8:a3::/64 metric 4000
# no plaintext fallback for a remote lan
ip route replace unreachable 2001:db8:a8::/64 metric 4000
