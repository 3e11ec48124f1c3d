package ownership

import (
	"fmt"
	"testing"
	"time"
)

func locks(owners ...string) []channelLock {
	out := make([]channelLock, len(owners))
	for i, o := range owners {
		out[i] = channelLock{name: fmt.Sprintf("ch%02d", i), key: int32(i + 1), owner: o, mine: o == "me"}
	}
	return out
}

func runningOf(chs []channelLock) map[string]int32 {
	out := map[string]int32{}
	for _, c := range chs {
		if c.mine {
			out[c.name] = c.key
		}
	}
	return out
}

func TestPlan(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	tm := TimingsFor(30 * time.Second)
	cases := []struct {
		name        string
		channels    []channelLock
		live        int
		freeSince   time.Duration // how long every free channel has been free
		overSince   time.Duration // how long this daemon has been above its share; 0: not
		releasing   int
		quarantined bool
		draining    bool
		freeSlots   func(string) int
		wantShare   int
		wantTake    int
		wantRelease bool
	}{
		{name: "alone takes everything", channels: locks("", "", "", ""), live: 1, wantShare: 4, wantTake: 4},
		{name: "one of two takes its share", channels: locks("", "", "", "", ""), live: 2, wantShare: 3, wantTake: 3},
		{name: "at its share takes nothing fresh", channels: locks("me", "me", "x", ""), live: 2, wantShare: 2, wantTake: 0},
		{name: "an orphan is taken above the share", channels: locks("me", "me", "x", ""), live: 2,
			freeSince: tm.OrphanGrace, wantShare: 2, wantTake: 1},
		{name: "quarantine takes nothing", channels: locks("", "", "", ""), live: 1, quarantined: true, wantShare: 4},
		{name: "draining takes nothing", channels: locks("", "", "", ""), live: 1, draining: true, wantShare: 4},
		{name: "no free slot for the server", channels: locks("", ""), live: 1, freeSlots: func(string) int { return 0 }, wantShare: 2},
		{name: "only as many as the free slots", channels: locks("", "", "", ""), live: 1, freeSlots: func(string) int { return 3 }, wantShare: 4, wantTake: 3},
		{name: "an orphan waits for a slot here", channels: locks("", ""), live: 1, freeSlots: func(string) int { return 0 },
			freeSince: tm.OrphanGrace, wantShare: 2, wantTake: 2},
		{name: "above share, not long enough", channels: locks("me", "me", "me", "x"), live: 2,
			overSince: tm.ReleaseAfter / 2, wantShare: 2},
		{name: "above share long enough releases one", channels: locks("me", "me", "me", "x"), live: 2,
			overSince: tm.ReleaseAfter, wantShare: 2, wantRelease: true},
		{name: "no release while one is being handed over", channels: locks("me", "me", "me", "x"), live: 2,
			overSince: tm.ReleaseAfter, releasing: 1, wantShare: 2},
		{name: "no release while a channel is free", channels: locks("me", "me", "me", "x", "", "y"), live: 3,
			overSince: tm.ReleaseAfter, wantShare: 2},
		{name: "only the daemon owning the most releases", channels: locks("me", "me", "me", "x", "x", "x", "x", "y"), live: 3,
			overSince: tm.ReleaseAfter, wantShare: 3},
		{name: "a tie goes to the smallest name", channels: locks("me", "me", "me", "a", "a", "a", "y"), live: 3,
			overSince: tm.ReleaseAfter, wantShare: 3},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			free := map[int32]time.Time{}
			for _, ch := range c.channels {
				if ch.owner == "" {
					free[ch.key] = now.Add(-c.freeSince)
				}
			}
			in := planInput{node: "me", channels: c.channels, liveNodes: c.live, running: runningOf(c.channels),
				releasing: c.releasing, now: now, freeSince: free, quarantined: c.quarantined, draining: c.draining,
				timings: tm, freeSlots: c.freeSlots}
			if c.overSince > 0 {
				in.overSince = now.Add(-c.overSince)
			}
			out := plan(in)
			if out.share != c.wantShare || len(out.acquire) != c.wantTake || out.releaseOK != c.wantRelease {
				t.Fatalf("share %d, take %d, release %v; want %d, %d, %v",
					out.share, len(out.acquire), out.releaseOK, c.wantShare, c.wantTake, c.wantRelease)
			}
		})
	}
}

// Daemons starting together order the free channels differently, so they
// do not all reach for the same ones first.
func TestRankSpreadsFirstChoices(t *testing.T) {
	first := func(node string) int32 {
		out := plan(planInput{node: node, channels: locks("", "", "", "", "", "", "", "", "", ""), liveNodes: 10,
			running: map[string]int32{}, now: time.Unix(0, 0), freeSince: map[int32]time.Time{}, timings: TimingsFor(0)})
		return out.acquire[0]
	}
	seen := map[int32]bool{}
	for i := 0; i < 5; i++ {
		seen[first(fmt.Sprintf("node-%d", i))] = true
	}
	if len(seen) < 3 {
		t.Fatalf("5 daemons' first choices cover only %d channels", len(seen))
	}
}

// The schedules keep the order the safety argument needs at any timeout.
func TestTimingsKeepTheirOrder(t *testing.T) {
	for _, f := range []time.Duration{time.Second, 5 * time.Second, 30 * time.Second, 5 * time.Minute} {
		tm := TimingsFor(f)
		ka := tm.keepalive()
		if tm.Tick >= tm.FenceAfter || tm.FenceAfter >= tm.Quarantine || tm.Quarantine >= f || ka.idle < 1 || ka.interval < 1 {
			t.Errorf("F=%s: %+v keepalive %+v", f, tm, ka)
		}
	}
}
