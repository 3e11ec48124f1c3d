package actorkit

import (
	"github.com/asynkron/protoactor-go/actor"
	cmap "github.com/orcaman/concurrent-map"
)

// protoactor's process registry spreads PIDs over 1024 buckets, each a
// concurrent map of cmap.SHARD_COUNT (32) locked shards: 32 768 maps and 3 MB
// of heap before the first actor exists, a third of an idle daemon's live
// heap. The 1024 buckets already spread the locking, so one shard per bucket
// costs nothing in contention. The count must be set before any map is made
// and never changed afterwards (a map finds its shard by it), hence init:
// actorkit is the only importer of protoactor, so nothing can build the
// registry before this runs.
func init() { cmap.SHARD_COUNT = 1 }

// registryBuckets replaces protoactor's 1024 registry buckets. With 1024, a
// daemon's few hundred actors sit about one to a bucket, and each pays for a
// whole map group of eight slots (~300 bytes an actor, 5 KB a channel) plus
// the empty buckets. The registry is only consulted when an actor is
// spawned or stopped and the first time a PID is used (a PID caches its
// process), so 64 locks are plenty for a few cores.
const registryBuckets = 64

// shrinkRegistry moves the processes protoactor registered while building
// the system (dead letters, the event stream) into a registry of
// registryBuckets buckets. protoactor picks a bucket by the length of the
// slice, so any length works. It must run before the system is used.
func shrinkRegistry(as *actor.ActorSystem) {
	sm := &actor.SliceMap{LocalPIDs: make([]cmap.ConcurrentMap, registryBuckets)}
	for i := range sm.LocalPIDs {
		sm.LocalPIDs[i] = cmap.New()
	}
	for _, bucket := range as.ProcessRegistry.LocalPIDs.LocalPIDs {
		bucket.IterCb(func(id string, proc any) { sm.GetBucket(id).Set(id, proc) })
	}
	as.ProcessRegistry.LocalPIDs = sm
}
