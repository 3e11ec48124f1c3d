// Package actorkit is daz's only door to protoactor-go. The library is frozen
// and has traps; this package fixes the ways daz uses it so the rest of the
// code cannot fall into them:
//
//   - every mailbox is unbounded (Bounded spin-blocks senders and
//     BoundedDropping busy-spins a core);
//   - EventStream subscribers only enqueue into a mailbox, behind a recover,
//     because handlers run on the publisher's goroutine; and the EventStream
//     has one subscriber, daz's bus, which fans out without copying, because
//     EventStream.Publish copies its whole subscriber list on every call;
//   - subscriptions belong to the actor's tree node and are dropped on
//     Restarting and Stopping, so restarts never duplicate them;
//   - shutdown walks the tree leaf-first, because ActorSystem.Shutdown stops
//     nothing and poisoning a parent drops its children's queued messages;
//   - timers come from an injected clock instead of SetReceiveTimeout, which
//     races under -race;
//   - a panic is logged once with its stack and recorded on the tree node for
//     the debug endpoint before supervision takes over.
package actorkit
