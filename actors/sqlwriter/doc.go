// Package sqlwriter is daz's only door to PostgreSQL. One actor logs every
// received CyTube event into daz_core_chat_log and runs the parameterized
// statements plugins send as messages.SQLRequest.
//
// The durability promise: an event handed to the writer is committed exactly
// once, in order of arrival, or it is in the writer's memory, or it is in the
// fsync'ed spill file under Config.DataDir that the next writer replays on
// start. A database outage, a flood, a graceful stop and hostile bytes in a
// payload do not lose events; only a process crash loses what was still in
// memory (at most MaxBufferedEvents or MaxBufferedBytes).
//
// Memory is bounded by one byte budget, MaxBufferedBytes, which counts
// everything the writer holds: its queue (moved to disk past a quarter of
// the budget), the batch or append in progress, and, through the Intake the
// connections' readers wait on before they send, the events still in its
// mailbox. A full budget makes the readers pause reading their sockets.
//
// Work is split so the actor goroutine never waits on the database or the
// disk: one flusher goroutine runs one job at a time (write a batch, append to
// the spill file, probe the database), an overflow goroutine takes events
// past the memory budget while the flusher is busy, and a small worker pool answers
// SQLRequests on its own connection pool, so a request never queues behind a
// slow batch. Both report back to the actor with messages.
package sqlwriter
