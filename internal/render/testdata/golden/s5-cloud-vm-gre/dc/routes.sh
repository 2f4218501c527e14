#!/bin/sh
# links and routes for gateway dc, rendered by styx from s5-cloud-vm-gre.yaml -- do not edit.
set -e
# idempotent: devices that exist are kept, addresses and routes are replaced
# GRE over dc-tun/gre; mtu 1391 = 1500 - 85 (ESP overhead 85 (IPv4 20 + UDP 8 + ESP 8 + IV 16 + pad 17 + ICV 16)) - 24 (GRE)
ip link show styxgre1 >/dev/null 2>&1 || ip link add styxgre1 type gre local 10.44.7.1 remote 10.44.6.1 ttl 255
ip link set styxgre1 mtu 1391 multicast on up
# GRE inner address
ip addr replace 10.44.4.5/30 dev styxgre1
# own address used in selectors
ip addr replace 10.44.7.1/32 dev lo
