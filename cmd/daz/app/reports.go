package app

import (
	"context"
	"sort"
	"strings"
	"time"

	"github.com/daz-bot/daz/cmd/daz/debugserver"
	"github.com/daz-bot/daz/messages"
)

// reports answers the debug endpoint from the live tree.
type reports struct{ a *App }

var _ debugserver.Introspector = reports{}

func (r reports) Actors() debugserver.ActorsReport {
	return debugserver.ActorsReport{
		GeneratedAt: r.a.opts.Clock.Now(),
		Version:     r.a.opts.Version,
		Actors:      r.a.sys.Tree().Snapshot(),
	}
}

// ChannelState returns the last connection state of a channel: the
// connection's own while it lives, else what its supervisor recorded on the
// channel (backing off, cooling down, stopped).
func (a *App) ChannelState(name string) (messages.ConnectionState, bool) {
	base := RootID + "/channels/" + strings.ToLower(name)
	for _, id := range []string{base + "/connection", base} {
		if v, ok := a.sys.Tree().State(id); ok {
			switch s := v.(type) {
			case messages.ConnectionState:
				return s, true
			case *messages.ConnectionState:
				return *s, true
			}
		}
	}
	return messages.ConnectionState{}, false
}

// clusterStatus is the ownership actor's last view, from the tree.
func (a *App) clusterStatus() (messages.ClusterStatus, bool) {
	v, ok := a.sys.Tree().State(RootID + "/" + OwnershipName)
	st, isStatus := v.(messages.ClusterStatus)
	return st, ok && isStatus
}

// Ready: the database answers, the lock session is confirmed, this daemon
// owns its share (or no channel is left unowned), and every channel it owns
// is online or deliberately stopped. Channels owned by others are not its
// business.
func (r reports) Ready(ctx context.Context) debugserver.Readiness {
	rep := debugserver.Readiness{Ready: true, Database: r.databaseCheck(ctx), Owned: []string{}}
	if !rep.Database.OK {
		rep.Ready = false
	}
	cl, ok := r.a.clusterStatus()
	rep.Node, rep.Share = r.a.opts.Cluster.NodeName, cl.Share
	if !ok || !cl.Connected {
		rep.Ready = false
	}
	rep.Owned = append(rep.Owned, cl.Owned...)
	if len(cl.Owned) < cl.Share {
		for _, owner := range cl.Owners {
			if owner == "" {
				rep.Ready = false // below its share while a channel is free
				break
			}
		}
	}
	for _, name := range cl.Owned {
		st, ok := r.a.ChannelState(name)
		cr := channelReadiness(name, st, ok)
		if !cr.Ready {
			rep.Ready = false
		}
		rep.Channels = append(rep.Channels, cr)
	}
	return rep
}

// Cluster lists the group as the ownership actor last read it.
func (r reports) Cluster() debugserver.ClusterReport {
	cl, _ := r.a.clusterStatus()
	rep := debugserver.ClusterReport{
		GeneratedAt: r.a.opts.Clock.Now(), Node: r.a.opts.Cluster.NodeName, Connected: cl.Connected,
		Share: cl.Share, Fences: cl.Fences, DuplicateLogins: r.a.duplicates.Load(), LastError: cl.LastError,
		Nodes: []debugserver.ClusterNode{}, Channels: []debugserver.ChannelOwner{},
	}
	if !cl.LastFence.IsZero() {
		rep.LastFence = &cl.LastFence
	}
	if !cl.CheckedAt.IsZero() {
		rep.CheckedAt = &cl.CheckedAt
	}
	byNode := map[string][]string{}
	names := make([]string, 0, len(cl.Owners))
	for name := range cl.Owners {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		owner := cl.Owners[name]
		if owner == "" {
			owner = "unowned"
		} else {
			byNode[owner] = append(byNode[owner], name)
		}
		co := debugserver.ChannelOwner{Channel: name, Owner: owner}
		if owner == r.a.opts.Cluster.NodeName {
			if st, ok := r.a.ChannelState(name); ok {
				co.State = string(st.State)
			}
		}
		rep.Channels = append(rep.Channels, co)
	}
	for _, n := range cl.Nodes {
		chs := byNode[n.Name]
		if chs == nil {
			chs = []string{}
		}
		rep.Nodes = append(rep.Nodes, debugserver.ClusterNode{Name: n.Name, StartedAt: n.StartedAt,
			HeartbeatAt: n.HeartbeatAt, Live: n.Live, Channels: chs})
	}
	return rep
}

// channelReadiness judges one channel. Only online is ready: a channel
// stopped for a ban, a refused login or a refused channel password is a
// deployment that needs a human, so /readyz says 503 and why. What an
// earlier attempt failed with is not shown once the channel is online.
func channelReadiness(name string, st messages.ConnectionState, known bool) debugserver.ChannelReadiness {
	cr := debugserver.ChannelReadiness{Channel: strings.ToLower(name), State: "starting"}
	if !known {
		return cr
	}
	cr.State = string(st.State)
	cr.Ready = st.State == messages.StateOnline
	if cr.Ready {
		return cr
	}
	cr.Detail = st.Reason
	if cr.Detail == "" {
		cr.Detail = st.LastError
	}
	return cr
}

// databaseCheck asks the writer, the only door to the database, for SELECT 1.
func (r reports) databaseCheck(ctx context.Context) debugserver.CheckResult {
	timeout := 2 * time.Second
	if dl, ok := ctx.Deadline(); ok {
		timeout = time.Until(dl)
	}
	pid := r.a.sys.PIDOf(RootID + "/sqlwriter")
	res, err := r.a.sys.Ask(pid, &messages.SQLRequest{Kind: messages.SQLQuery, Query: "SELECT 1"}, timeout)
	if err != nil {
		return debugserver.CheckResult{Error: "sql writer did not answer: " + err.Error()}
	}
	resp, ok := res.(*messages.SQLResponse)
	if !ok {
		return debugserver.CheckResult{Error: "unexpected answer from the sql writer"}
	}
	if resp.Err != nil {
		return debugserver.CheckResult{Error: resp.Err.Error()}
	}
	return debugserver.CheckResult{OK: true}
}

// Cluster is /debug/cluster's report (tests and embedding programs read it).
func (a *App) Cluster() debugserver.ClusterReport { return reports{a}.Cluster() }
