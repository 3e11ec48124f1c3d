// Package connection is a channel's link to CyTube: one actor per channel,
// child "connection" of the channel actor, one connection attempt per
// incarnation.
//
// An attempt discovers the server (GET /socketconfig/<channel>.json), opens
// the Engine.IO v4 websocket, connects the Socket.IO namespace (40), joins
// the channel and logs in, and is online once the server confirms the login
// (or, anonymous, once the join burst arrived). Blocking work runs on one
// goroutine per attempt that reports back with messages; the actor is the
// state machine. That goroutine also reads the socket: it stamps every
// decoded event with what only the socket's whole history tells (join
// burst, replayed backlog, our own line: JoinTracker), hands it straight to
// the sinks in receive order, and answers pings.
//
// Each state change is published once, on the EventStream (the channel,
// the outbound queue and the plugins subscribe there), and recorded on the
// actor's tree node; the actor itself tells the supervisor strategy about a
// confirmed login (AttemptSource.LoginConfirmed), once per login.
//
// Before the reader sends an event it waits on the SQL writer's Intake
// (Config.Intake) while the writer's byte budget is full, so a burst slows
// the server down through TCP flow control instead of piling up in the
// writer's mailbox; the wait is bounded and a writer that takes nothing is
// logged and read past.
//
// With Config.ServerGate set, an attempt first takes one of the daemon's
// slots to its server (servergate) and the pacer's turn, then discovers;
// its "40" also waits for the server's connect rate. Without a slot the
// actor shows StateWaitingForSlot and waits on a callback, not a goroutine
// and not a failure; the slot is released after the socket is closed, on
// every path (cleanup).
//
// Any end of an attempt (a refused discovery or websocket, a 44 rate limit,
// a kick, a 41, a closed socket, a silent link, a handshake timeout, a
// partitionChange, a refused login) fails the actor with a *messages.ConnectionFailure whose
// Kind tells the supervisor strategy (supervision.ConnectionStrategy) what to
// do next. Before failing, the actor closes the socket and waits for the
// reader, so everything read has reached the sinks and nothing keeps
// running while the strategy waits.
package connection
