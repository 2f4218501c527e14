package cli

// Help is the long help of styx lab up.
func (LabUpCmd) Help() string {
	return `Builds the lab: a network namespace per gateway, per lab host and one
"internet" router, one charon per gateway configured by the same code as
styx apply, and the lab hosts' services. It returns when every tunnel that
should be up is up, or fails with the charon log lines that explain why and
removes what it built. Kernel ESP is used where the kernel has it,
strongSwan's kernel-libipsec otherwise (shown in the progress lines).

Examples:
  styx lab up examples/s1-iot-cloud.yaml
  styx lab up examples/s1-iot-cloud.yaml --test --down
  styx lab up --vm examples/s2-route-based-bgp.yaml`
}

// Help is the long help of styx lab test.
func (LabTestCmd) Help() string {
	return `Runs the tests of a running lab and prints a pass/fail table: every
tunnel up, the file's expectations (reachability, encryption on the wire),
spoofing from the internet, a CHILD_SA rekey without loss (lab.rekey) and a
charon restart. Exit status 0 only if all pass. docs/lab.md lists the tests.

Examples:
  styx lab test examples/s1-iot-cloud.yaml
  styx lab test examples/s1-iot-cloud.yaml --format json`
}

// Help is the long help of styx lab down.
func (LabDownCmd) Help() string {
	return `Removes the lab of a topology file: its processes, namespaces, veths and
files, also when the lab was left behind by a crash (everything is labelled
with the lab id), and the VM of a lab that runs in the VM tier.

Examples:
  styx lab down examples/s1-iot-cloud.yaml`
}

// Help is the long help of styx lab status.
func (LabStatusCmd) Help() string {
	return `Lists the lab's nodes (router, gateways, hosts, road warriors) with their
namespace, addresses and whether their processes run.

Examples:
  styx lab status examples/s1-iot-cloud.yaml`
}

// Help is the long help of styx lab exec.
func (LabExecCmd) Help() string {
	return `Runs a command in a lab node (sh when none is given). On a gateway the
command sees the gateway's private /run and environment, so swanctl, nft,
styx status, styx plan and styx apply reach that gateway's charon with
their defaults. The directory of this styx binary comes first in PATH.

Examples:
  styx lab exec examples/s1-iot-cloud.yaml cloud -- swanctl --list-sas
  styx lab exec examples/s1-iot-cloud.yaml cloud -- styx plan examples/s1-iot-cloud.yaml -g cloud
  styx lab exec examples/s1-iot-cloud.yaml internet -- tcpdump -ni any esp or udp port 4500`
}

// Help is the long help of styx lab logs.
func (LabLogsCmd) Help() string {
	return `Prints a lab gateway's charon log, or with --bird its BIRD log.

Examples:
  styx lab logs examples/s1-iot-cloud.yaml cloud -n 50
  styx lab logs examples/s2-route-based-bgp.yaml v1-1 --bird`
}
