module github.com/styx-vpn/styx

go 1.26.0

require (
	github.com/alecthomas/kong v1.17.0
	github.com/goccy/go-yaml v1.19.2
	go4.org/netipx v0.0.0-20260823151212-3075585bcbeb
)

require github.com/strongswan/govici v0.8.1

require (
	github.com/rogpeppe/go-internal v1.16.0
	golang.org/x/sys v0.26.0
	golang.org/x/tools v0.26.0 // indirect
)
