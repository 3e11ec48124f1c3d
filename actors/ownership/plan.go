package ownership

import (
	"hash/fnv"
	"slices"
	"time"
)

// planInput is what one round decides from: the locks as the database
// shows them and this daemon's own bookkeeping.
type planInput struct {
	node        string
	channels    []channelLock // every desired channel
	servers     map[string]string
	liveNodes   int
	running     map[string]int32 // channels this daemon runs → lock key
	releasing   int              // channels being handed over now
	now         time.Time        // local clock
	freeSince   map[int32]time.Time
	overSince   time.Time // when owning more than the share began; zero: not above
	quarantined bool
	draining    bool
	timings     Timings
	// freeSlots is how many more sockets this daemon may open to a
	// server (the per-server gate); nil: no limit.
	freeSlots func(server string) int
}

type planOutput struct {
	share     int
	acquire   []int32 // keys to try
	release   int32   // key to hand over, when releaseOK
	releaseOK bool
	overSince time.Time
}

// share is ⌈channels / live daemons⌉.
func share(channels, live int) int {
	if live < 1 {
		live = 1
	}
	return (channels + live - 1) / live
}

// rank orders channels differently on each daemon, so daemons starting
// together reach for different channels first instead of all racing for
// the same ones.
func rank(node string, key int32) uint64 {
	h := fnv.New64a()
	_, _ = h.Write([]byte(node))
	// splitmix64's finaliser: FNV alone keeps the keys' order when only
	// the last byte of a node name differs.
	z := h.Sum64() ^ uint64(uint32(key))*0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// plan decides a round: which free channels to try, and whether to hand
// one over. It takes while below the share (and any channel left free past
// the orphan grace even above it), and releases one channel at a time once
// this daemon has stayed above its share for ReleaseAfter.
func plan(in planInput) planOutput {
	out := planOutput{share: share(len(in.channels), in.liveNodes), overSince: in.overSince}
	owned := len(in.running)
	if in.draining {
		return out
	}
	if !in.quarantined {
		want := out.share - owned
		var free []channelLock
		seen := map[int32]bool{}
		for _, c := range in.channels {
			if c.owner != "" || seen[c.key] {
				continue
			}
			seen[c.key] = true
			free = append(free, c)
		}
		slices.SortFunc(free, func(a, b channelLock) int {
			ra, rb := rank(in.node, a.key), rank(in.node, b.key)
			switch {
			case ra < rb:
				return -1
			case ra > rb:
				return 1
			}
			return 0
		})
		// Fresh channels only up to the free slots of their server: the
		// rest are left to daemons with slots of their own. An orphan is
		// taken regardless and waits for a slot here, so no channel is
		// left with no daemon at all.
		slots := map[string]int{}
		taken := 0
		for _, c := range free {
			since, ok := in.freeSince[c.key]
			if ok && in.now.Sub(since) >= in.timings.OrphanGrace {
				out.acquire = append(out.acquire, c.key)
				continue
			}
			if taken >= want {
				continue
			}
			if in.freeSlots != nil {
				server := in.servers[c.name]
				if _, ok := slots[server]; !ok {
					slots[server] = in.freeSlots(server)
				}
				if slots[server] <= 0 {
					continue
				}
				slots[server]--
			}
			out.acquire = append(out.acquire, c.key)
			taken++
		}
	}
	if owned <= out.share {
		out.overSince = time.Time{}
		return out
	}
	if out.overSince.IsZero() {
		out.overSince = in.now
	}
	if in.releasing > 0 || in.now.Sub(out.overSince) < in.timings.ReleaseAfter || !firstToRelease(in) {
		return out
	}
	// Hand over the channel this daemon ranks last.
	var worst int32
	var worstRank uint64
	first := true
	for _, key := range in.running {
		if r := rank(in.node, key); first || r > worstRank {
			worst, worstRank, first = key, r, false
		}
	}
	out.release, out.releaseOK = worst, true
	return out
}

// firstToRelease keeps hand-overs to one channel at a time across the
// group: a daemon releases only while no channel is free, and only if it
// owns the most channels (ties go to the smallest name), so in one view of
// the locks exactly one daemon releases.
func firstToRelease(in planInput) bool {
	counts := map[string]int{}
	for _, c := range in.channels {
		if c.owner == "" {
			return false
		}
		counts[c.owner]++
	}
	me := counts[in.node]
	for node, n := range counts {
		if n > me || (n == me && node < in.node) {
			return false
		}
	}
	return true
}
