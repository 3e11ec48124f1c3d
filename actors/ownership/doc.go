// Package ownership decides which channels this daemon runs when several
// daemons share one PostgreSQL, with no coordinator but the database.
//
// Ownership of a channel is a session-level advisory lock,
// pg_try_advisory_lock(LockClass, hashtext(channel)), held by one dedicated
// connection per daemon (application_name "daz:<node>"), not a pool. Why a
// lock and not lease rows: the lock lives exactly as long as the owner's
// database session. kill -9, a crash or a lost network ends the session and
// frees the lock, with no lease clock to renew or compare, so neither a
// jumping clock nor a slow renewal can make two owners. Who owns what is
// read from pg_locks joined with pg_stat_activity, the same truth the locks
// are; daz_nodes only names the daemons (started, last heartbeat by the
// database's clock) for the debug page. A daemon counts as live while its
// lock session is connected.
//
// Two channels whose names hash alike share one lock; the holder runs both
// (the locks, not the lock attempts, say what a daemon runs), so a
// collision only puts them on the same daemon.
//
// Everything is derived from one failover timeout F (cluster.failover_timeout,
// 30 s; see Timings):
//
//   - every Tick (F/10) the daemon confirms its session with a query under
//     a deadline, writes its heartbeat and reads the locks;
//   - fencing: if the session is not confirmed for FenceAfter (F/5), or a
//     query on it fails, every channel of the daemon is stopped at once and
//     the session closed; a new one is opened only once every fenced
//     channel has stopped (capped at Quarantine), so a daemon that is live
//     again has no connection left from before (its old locks are free or
//     held by a session about to die, never by a session it thinks it lost);
//   - quarantine: when a daemon vanishes (its session is gone but its last
//     heartbeat is recent), the others take nothing for Quarantine
//     (FenceAfter + 2 Tick) after that heartbeat. If the session died
//     because the network between that daemon and the database was cut, the
//     daemon is still connected to CyTube until it fences, which happens
//     within FenceAfter plus a Tick of its last successful confirmation,
//     itself no later than that heartbeat. Durations, not clock readings,
//     are compared across machines, so clock offsets between hosts do not
//     matter. A daemon that stops gracefully deletes its row first: its
//     channels are taken at the next round;
//   - the server's TCP keepalive on the lock session (tcp_keepalives_idle
//     F/6, interval F/30, count 3) ends the session of a daemon whose network
//     is gone after about F/4, so its channels are back online on the others
//     within about F/4 + Quarantine + 2 Tick + a connection, inside F.
//
// Balance: share = ⌈channels / live daemons⌉. A daemon takes free channels
// while below its share (in an order of its own, so daemons starting
// together do not all reach for the same ones), takes any channel left free
// for OrphanGrace even above its share, and hands over one channel at a
// time after ReleaseAfter above its share: only while no channel is free and
// only the daemon owning the most, so the whole group drops at most one
// channel at a time. A hand-over stops the channel (its last events reach
// the writer) and only then unlocks it; pg_notify('daz_cluster') marks every
// change.
//
// The blocking database calls run on a goroutine the actor owns, one at a
// time, and come back as messages; results of a session fenced since are
// told apart by an epoch and dropped, and a reading of the locks taken
// before a hand-over's unlock never runs that channel again. The worker and
// its session outlive a restart of the actor, so a restart drops nothing.
package ownership
