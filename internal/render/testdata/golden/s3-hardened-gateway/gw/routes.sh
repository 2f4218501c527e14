#!/bin/sh
# links and routes for gateway gw, rendered by styx from s3-hardened-gateway.yaml -- do not edit.
set -e
# idempotent: devices that exist are kept, addresses and routes are replaced
# own address used in selectors
ip addr replace 10.0.1.1/32 dev lo
