package actorkit

import cmap "github.com/orcaman/concurrent-map"

// protoactor's process registry spreads PIDs over 1024 buckets, each a
// concurrent map of cmap.SHARD_COUNT (32) locked shards: 32 768 maps and 3 MB
// of heap before the first actor exists, a third of an idle daemon's live
// heap. The 1024 buckets already spread the locking, so one shard per bucket
// costs nothing in contention. The count must be set before any map is made
// and never changed afterwards (a map finds its shard by it), hence init:
// actorkit is the only importer of protoactor, so nothing can build the
// registry before this runs.
func init() { cmap.SHARD_COUNT = 1 }
