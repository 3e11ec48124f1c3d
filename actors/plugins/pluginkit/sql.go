package pluginkit

import (
	"errors"
	"fmt"
	"time"

	"github.com/asynkron/protoactor-go/actor"

	"github.com/daz-bot/daz/actors/actorkit"
	"github.com/daz-bot/daz/messages"
)

// Query runs a row-returning statement through the SQL writer; then runs
// inside the actor once the answer (or a timeout) arrives, so the mailbox
// keeps moving meanwhile. then always gets a non-nil response; a missing
// writer or a timeout is reported as messages.ErrDatabaseUnavailable.
func (k *Kit) Query(ctx actor.Context, query string, args []any, then func(*messages.SQLResponse)) {
	k.sql(ctx, messages.SQLQuery, query, args, then)
}

// Exec runs a statement that returns no rows (its RowsAffected is set).
func (k *Kit) Exec(ctx actor.Context, query string, args []any, then func(*messages.SQLResponse)) {
	k.sql(ctx, messages.SQLExec, query, args, then)
}

func (k *Kit) sql(ctx actor.Context, kind messages.SQLKind, query string, args []any, then func(*messages.SQLResponse)) {
	k.nextSQL++
	Call(k.Deps.System, ctx, k.Deps.SQL, k.Deps.SQLTimeout, &messages.SQLRequest{ID: k.nextSQL, Kind: kind, Query: query, Args: args,
		Patience: k.Deps.SQLTimeout}, then)
}

// Call is a plugin's SQL round trip: it asks writer with req and runs then
// inside the actor.
func Call(sys *actorkit.System, ctx actor.Context, writer *actor.PID, timeout time.Duration, req *messages.SQLRequest, then func(*messages.SQLResponse)) {
	if writer == nil {
		then(&messages.SQLResponse{ID: req.ID, Err: fmt.Errorf("no SQL writer configured: %w", messages.ErrDatabaseUnavailable)})
		return
	}
	sys.Request(ctx, writer, req, timeout, func(res any, err error) {
		then(messages.SQLResponseOf(req.ID, res, err))
	})
}

// Ask sends msg to pid as a request and runs then inside the actor with the
// answer; err is set on timeout.
func Ask(sys *actorkit.System, ctx actor.Context, pid *actor.PID, timeout time.Duration, msg any, then func(res any, err error)) {
	if pid == nil {
		then(nil, errors.New("no recipient configured"))
		return
	}
	sys.Request(ctx, pid, msg, timeout, then)
}
