package sqlwriter

import (
	"context"
	"fmt"
	"time"

	"github.com/asynkron/protoactor-go/actor"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/daz-bot/daz/messages"
)

// request is an SQLRequest waiting for a worker, with the address to answer.
type request struct {
	req     *messages.SQLRequest
	replyTo *actor.PID
	queued  time.Time
}

// workerFree is a request worker telling the actor it has room for the next
// waiting request.
type workerFree struct{}

// dbDown is a request worker telling the actor the database is unreachable.
type dbDown struct{ err error }

// unavailable is the error of a request the writer could not run because the
// database cannot be reached or is busy.
func unavailable(id uint64, why error) error {
	if why == nil {
		return fmt.Errorf("sql request %d: %w", id, messages.ErrDatabaseUnavailable)
	}
	return fmt.Errorf("sql request %d: %w: %w", id, messages.ErrDatabaseUnavailable, why)
}

// requestRunner runs SQLRequests on its own pool so they never wait for a
// connection held by a batch write.
type requestRunner struct {
	pool *pgxpool.Pool
	cfg  Config
}

// run executes one statement. Values are only ever bound as parameters, and
// every statement goes out over the extended protocol, which refuses more
// than one command per request, so text smuggled into Query cannot append a
// second command (see exec for the one case pgx would not do so by itself).
func (r *requestRunner) run(ctx context.Context, req *messages.SQLRequest) (resp *messages.SQLResponse, down bool) {
	resp = &messages.SQLResponse{ID: req.ID}
	if r.pool == nil {
		resp.Err = unavailable(req.ID, errNoPool)
		return resp, false
	}
	ctx, cancel := context.WithTimeout(ctx, r.cfg.RequestTimeout)
	defer cancel()
	var err error
	switch req.Kind {
	case messages.SQLExec:
		var affected int64
		affected, err = r.exec(ctx, req)
		resp.RowsAffected = affected
	case messages.SQLQuery:
		resp.Columns, resp.Rows, err = r.query(ctx, req)
		resp.RowsAffected = int64(len(resp.Rows))
	default:
		err = fmt.Errorf("unknown statement kind %d", req.Kind)
		resp.Err = fmt.Errorf("sql request %d: %w", req.ID, err)
		return resp, false
	}
	if err == nil {
		return resp, false
	}
	resp.Columns, resp.Rows = nil, nil
	if classify(err) == failDown {
		resp.Err = unavailable(req.ID, err)
		// A request that ran out of time says nothing about the server being
		// reachable: a slow query must not make every other request fail.
		return resp, ctx.Err() == nil
	}
	resp.Err = fmt.Errorf("sql request %d: %w", req.ID, err)
	return resp, false
}

// exec runs a statement that returns no rows. It goes through Query on
// purpose: pgx's Exec switches to the simple protocol when there are no
// arguments, and the simple protocol runs several ;-separated statements.
func (r *requestRunner) exec(ctx context.Context, req *messages.SQLRequest) (int64, error) {
	rows, err := r.pool.Query(ctx, req.Query, req.Args...)
	if err != nil {
		return 0, err
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	return rows.CommandTag().RowsAffected(), nil
}

func (r *requestRunner) query(ctx context.Context, req *messages.SQLRequest) ([]string, [][]any, error) {
	rows, err := r.pool.Query(ctx, req.Query, req.Args...)
	if err != nil {
		return nil, nil, err
	}
	defer rows.Close()
	fields := rows.FieldDescriptions()
	cols := make([]string, len(fields))
	for i, f := range fields {
		cols[i] = f.Name
	}
	var out [][]any
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			return nil, nil, err
		}
		out = append(out, vals)
	}
	if err := rows.Err(); err != nil {
		return nil, nil, err
	}
	return cols, out, nil
}
