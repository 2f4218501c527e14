#!/bin/sh
# links and routes for gateway gw, rendered by styx from s3-hardened-gateway.yaml -- do not edit.
set -e
# own address used in selectors
ip addr add 10.0.1.1/32 dev lo
