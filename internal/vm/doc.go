// Package vm runs a styx lab inside one QEMU virtual machine that boots
// Debian's distribution kernel (which has ESP, XFRM interfaces, VTI and
// GRE) with the host's root file system shared read-only over virtio-9p,
// so that the styx binary, strongSwan and the tools of the host run in it
// unchanged. This is the lab tier that proves the kernel data plane:
// real ESP SAs and the kernel-variant firewall (policy matching).
//
// Run is one-shot: the VM boots, runs `styx lab up --test --down` on the
// kernel data plane, prints the results on its serial console and powers
// off. StartSession keeps the VM up after `styx lab up` and runs the
// commands the host sends through a shared control directory (Exec), until
// Stop. Software emulation (TCG) is used; KVM is not assumed to work.
package vm
