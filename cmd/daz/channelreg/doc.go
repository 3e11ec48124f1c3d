// Package channelreg is the channel registry: the daz_channels table that
// says which CyTube channels the group of daemons serves, where, with which
// account, and whether each is enabled. It is not an actor: the daemon reads
// it (List) and follows it (Follow), and `daz channels` changes it (Add,
// Remove, SetEnabled).
//
// Passwords never enter the table. A channel holds a reference that each
// daemon resolves for itself (ResolveSecret): env:NAME, file:/path, or
// config — the daemon's own configuration supplies it, which is how channels
// seeded from the config file keep their passwords where they are today.
//
// The config file's channels seed the table (Seed): a name not in the table
// is inserted; a row the config seeded before takes the config's server and
// account again, since the config file stays their source of truth; the
// enabled flag is never touched, so `daz channels disable` survives a
// restart. `daz channels remove` of a config channel lasts until a daemon
// with that config starts again and seeds it back; to drop it for good, take
// it out of the config file (or disable it, which sticks).
//
// Every change to a row, by any client, is announced with
// pg_notify('daz_channels', name); Follow turns those into calls of a handler,
// reconnecting when the database goes away.
package channelreg
