package messages

import "time"

// Messages between the ownership actor (which holds the channel locks of
// this daemon in PostgreSQL) and the channels actor (which runs one subtree
// per channel this daemon owns).

// DesiredChannels is the whole set of channels the group should serve
// (lower-case names with their CyTube server); the app sends it to the
// ownership actor at start and whenever the set changes.
type DesiredChannels struct {
	Channels []DesiredChannel
}

// DesiredChannel is one channel the group should serve.
type DesiredChannel struct {
	Name   string // lower case
	Server string // CyTube server URL
}

// ChannelAcquired tells the channels actor this daemon now holds the
// channel's lock: run its subtree.
type ChannelAcquired struct{ Channel string }

// ChannelReleased tells the channels actor to stop the channel gracefully
// (its final events flushed to the writer) so the lock can be handed over;
// it answers ChannelStopped once the subtree is gone.
type ChannelReleased struct{ Channel string }

// Fenced tells the channels actor to stop every channel at once: this
// daemon could not confirm its lock session in time, so another daemon may
// own them any moment now. Each stop is answered with ChannelStopped.
type Fenced struct{ Channels []string }

// ChannelStopped is the channels actor's answer to ChannelReleased and
// Fenced: the channel's subtree has stopped (a released lock may now be
// let go; after a fence, a new session may be opened).
type ChannelStopped struct{ Channel string }

// OwnershipDraining tells the ownership actor the daemon is shutting down:
// take no more channels (the lock session closes after the final flush).
type OwnershipDraining struct{}

// ClusterStatusRequest asks the ownership actor for its view of the group;
// it answers with a ClusterStatus.
type ClusterStatusRequest struct{}

// ClusterStatus is the ownership actor's last view of the group, read
// from pg_locks, pg_stat_activity and daz_nodes.
type ClusterStatus struct {
	Node      string
	Connected bool // the lock session is open and was confirmed
	// Share is ⌈enabled channels / live nodes⌉, the most this daemon aims
	// to own (it takes orphans above it).
	Share      int
	Owned      []string // channels this daemon holds, sorted
	Nodes      []ClusterNode
	Owners     map[string]string // channel → owning node; "" when unowned
	CheckedAt  time.Time         // by the database's clock
	Fences     int64
	LastFence  time.Time
	LastError  string
	Duplicates int64 // "Duplicate login" kicks seen by this daemon
}

// ClusterNode is one daemon of the group as daz_nodes records it.
type ClusterNode struct {
	Name        string
	StartedAt   time.Time
	HeartbeatAt time.Time
	Live        bool
}

// ChannelsRestarted tells the ownership actor the channels actor started
// afresh (a restart stops every channel subtree): whatever it had told it to
// run must be told again.
type ChannelsRestarted struct{}
