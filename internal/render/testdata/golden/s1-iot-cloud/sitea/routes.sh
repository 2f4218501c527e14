#!/bin/sh
# links and routes for gateway sitea, rendered by styx from s1-iot-cloud.yaml -- do not edit.
# nothing: policy-based tunnels only (charon routes remote selectors in table 220)
