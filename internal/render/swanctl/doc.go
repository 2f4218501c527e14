// Package swanctl renders a gateway plan as swanctl.conf (connections,
// children, pools) and a separate secrets file. Output is deterministic
// and carries a comment naming the topology object behind every block.
package swanctl
