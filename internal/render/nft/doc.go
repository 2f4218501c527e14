// Package nft renders a gateway's firewall plan as one nftables table,
// `table inet styx`, replaced atomically (`table inet styx {}`,
// `delete table inet styx`, then the full table, in one `nft -f`
// transaction). No other table is touched.
//
// Two variants exist. With the kernel data plane, tunnel traffic is proven
// by its IPsec policy (`meta ipsec exists`, `rt ipsec exists`). With
// kernel-libipsec, decrypted packets carry no secpath and arrive on the TUN
// device ipsec0, so the same decisions are made on `iifname/oifname
// "ipsec0"` plus addresses. The header of the file says which variant it is.
//
// Addresses live in sets, so the number of rules does not grow with the
// number of peers.
package nft
