// Package supervision holds daz's supervisor strategies: how a failed actor
// comes back, when, and when it must not.
//
// ConnectionStrategy supervises a channel's connection. Its policy, by the
// kind of the failure (messages.FailureKind):
//
//	kick "Duplicate login"                      cool down (30 min), then a new round
//	kick "You're banned!" / "You are banned…"   stop; reason persisted
//	login refused (password, unknown user,      stop; reason persisted
//	  registered/invalid/reserved name)
//	guest login throttle (60 s per IP)          wait at least GuestLimitWait (65 s)
//	invalid channel name (404 or kick)          stop: a configuration error
//	channel password missing or refused and     stop with a clear error
//	  no login of rank 2+ let us in
//	other kicks, 44 rate limit, drops, dead     attempt n waits min(MaxDelay, Base·2^(n-1))
//	  link, discovery/dial errors, timeouts,      less up to Jitter; the Attempts-th
//	  partitionChange                             failure in a row cools down instead
//
// A confirmed login resets the count. The state is persisted through a
// RetryStore (daz_core_retry_state) so a restarted daemon waits out a
// cooldown and continues a round.
package supervision
