// Package vici is a thin typed layer over govici for what styx needs from
// charon: loading and unloading connections, shared secrets, pools and
// credentials, listing them, listing SAs per connection, and initiating.
//
// Every call has a deadline (a silent gap of more than 5 s kills a govici
// session, so calls must never wait without one); a failed call closes the
// session and the next call dials again. SAs are listed per connection,
// never in one stream, because govici drops streamed events beyond about
// 128. Messages are built in a fixed key order from plan values
// (ConnMessage, PoolMessage), so what goes to charon is deterministic.
package vici
