#!/bin/sh
# links and routes for gateway vpn, rendered by styx from s4-roadwarrior-eap.yaml -- do not edit.
# nothing: policy-based tunnels only (charon routes remote selectors in table 220)
