package sqlwriter

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// A batch is copied straight into the chat log after asking which of its
// chat lines are already there, because COPY cannot skip a row whose dedup
// key exists. Should a conflicting line be committed between that question
// and the copy, the batch falls back to a session-local staging table moved
// with INSERT ... ON CONFLICT DO NOTHING, which cannot conflict. Both keep
// the ids in order of arrival.
const (
	stageTable = "daz_sqlwriter_stage"

	createStage = `CREATE TEMP TABLE IF NOT EXISTS ` + stageTable + ` (
	ord         integer NOT NULL,
	timestamp   timestamptz NOT NULL,
	channel     text NOT NULL,
	username    text,
	message     text,
	event_type  text NOT NULL,
	metadata    jsonb NOT NULL,
	received_at timestamptz NOT NULL,
	dedup_key   text
) ON COMMIT DELETE ROWS`

	moveStage = `INSERT INTO daz_core_chat_log
	(timestamp, channel, username, message, event_type, metadata, received_at, dedup_key)
SELECT timestamp, channel, username, message, event_type, metadata, received_at, dedup_key
FROM ` + stageTable + ` ORDER BY ord
ON CONFLICT (channel, dedup_key, timestamp) WHERE dedup_key IS NOT NULL DO NOTHING`

	// The LATERAL ... LIMIT 1 makes every key one probe of the dedup index;
	// as a plain semi-join the planner hashes the whole chat log once a
	// batch has a few thousand keys. The chat log is partitioned by
	// timestamp and the dedup index includes it: a dedup key is derived
	// from the line's server time, which is also its timestamp, so giving
	// the timestamp costs nothing in meaning and lets each probe visit one
	// partition instead of all of them.
	existingKeys = `SELECT u.channel, u.dedup_key
FROM unnest($1::text[], $2::text[], $3::timestamptz[]) AS u(channel, dedup_key, ts)
CROSS JOIN LATERAL (SELECT 1 FROM daz_core_chat_log l
	WHERE l.channel = u.channel AND l.dedup_key = u.dedup_key AND l.timestamp = u.ts LIMIT 1) AS logged`

	// txid_status tells after a lost connection whether a COMMIT that was
	// sent took effect, so a batch is neither lost nor written twice.
	currentXID = `SELECT txid_current()`
	xidStatus  = `SELECT txid_status($1)`

	uniqueViolation = "23505"
)

var stageColumns = append([]string{"ord"}, columns...)

// prepareLogConn readies a new connection of the batch writer's pool.
func prepareLogConn(ctx context.Context, conn *pgx.Conn) error {
	if _, err := conn.Exec(ctx, createStage); err != nil {
		return fmt.Errorf("create staging table: %w", err)
	}
	return nil
}

// pendingCommit is a batch whose COMMIT was sent but not acknowledged: the
// next n records are in the database exactly when transaction xid committed.
type pendingCommit struct {
	xid int64
	n   int
}

// writeOutcome reports how far a write got.
type writeOutcome struct {
	done        int   // leading records now stored (inserted, duplicate or quarantined)
	inserted    int64 // rows actually inserted
	quarantined int
	err         error          // set when records[done:] are still to be written
	kind        failureKind    // meaning of err
	unsure      *pendingCommit // set when records[done:] may have been committed
	took        time.Duration
}

// batchWriter writes records into the chat log. It is used by one goroutine
// at a time.
type batchWriter struct {
	pool    *pgxpool.Pool
	timeout time.Duration
}

// write stores recs in order. A batch that PostgreSQL rejects is retried row
// by row so one bad row cannot hold back the others; a row it rejects on its
// own is stored in quarantined form.
func (w *batchWriter) write(ctx context.Context, recs []record, unsure *pendingCommit) writeOutcome {
	start := time.Now()
	out := w.writeInner(ctx, recs, unsure)
	out.took = time.Since(start)
	return out
}

func (w *batchWriter) writeInner(ctx context.Context, recs []record, unsure *pendingCommit) writeOutcome {
	if w.pool == nil {
		return writeOutcome{err: errNoPool, kind: failDown, unsure: unsure}
	}
	if unsure != nil {
		committed, err := w.committed(ctx, unsure.xid)
		if err != nil {
			kind := classify(err)
			if errors.Is(err, errStillRunning) {
				kind = failOther // the server answered; it is up
			}
			return writeOutcome{err: err, kind: kind, unsure: unsure}
		}
		if committed {
			n := min(unsure.n, len(recs))
			return writeOutcome{done: n, inserted: int64(n)}
		}
	}
	inserted, pc, err := w.commitBatch(ctx, recs)
	if err == nil {
		return writeOutcome{done: len(recs), inserted: inserted}
	}
	if kind := classify(err); kind != failRejected {
		return writeOutcome{err: err, kind: kind, unsure: pc}
	}
	return w.writeRowByRow(ctx, recs)
}

var (
	errNoPool       = errors.New("no database connection pool (bad database URL?)")
	errStillRunning = errors.New("transaction still in progress")
)

// writeRowByRow isolates the rows PostgreSQL refuses.
func (w *batchWriter) writeRowByRow(ctx context.Context, recs []record) writeOutcome {
	var out writeOutcome
	for i := range recs {
		inserted, pc, err := w.commitBatch(ctx, recs[i:i+1])
		if err != nil && classify(err) == failRejected {
			q := quarantine(&recs[i], err)
			inserted, pc, err = w.commitBatch(ctx, []record{q})
			if err == nil {
				out.quarantined++
			}
		}
		if err != nil {
			out.err = fmt.Errorf("row %d of %d: %w", i+1, len(recs), err)
			out.kind = classify(err)
			if out.kind == failRejected {
				// Even the quarantined form was refused: not a data problem
				// we can fix here, so retry later instead of dropping it.
				out.kind = failOther
			}
			out.unsure = pc
			return out
		}
		out.done++
		out.inserted += inserted
	}
	return out
}

// commitBatch stores recs in one transaction, deduplicating chat lines.
// When the COMMIT itself fails on a lost connection, the returned
// pendingCommit lets the next attempt ask whether it went through.
func (w *batchWriter) commitBatch(ctx context.Context, recs []record) (int64, *pendingCommit, error) {
	inserted, unsure, err := w.inTransaction(ctx, recs, copyDirect)
	var pgErr *pgconn.PgError
	if unsure == nil && errors.As(err, &pgErr) && pgErr.Code == uniqueViolation {
		return w.inTransaction(ctx, recs, copyViaStage)
	}
	return inserted, unsure, err
}

// copyDirect copies the rows that are not in the log yet straight into it.
func copyDirect(ctx context.Context, tx pgx.Tx, recs []record) (int64, error) {
	keep, err := withoutLoggedLines(ctx, tx, recs)
	if err != nil {
		return 0, err
	}
	if len(keep) == 0 {
		return 0, nil
	}
	if keep, err = sharePayloads(ctx, tx, keep); err != nil {
		return 0, err
	}
	n, err := tx.CopyFrom(ctx, pgx.Identifier{"daz_core_chat_log"}, columns, &recordSource{recs: keep})
	if err != nil {
		return 0, fmt.Errorf("copy %d rows into chat log: %w", len(keep), err)
	}
	return n, nil
}

// withoutLoggedLines drops the chat lines already in the log, and the
// repeats of a line within the batch, keeping the order.
func withoutLoggedLines(ctx context.Context, tx pgx.Tx, recs []record) ([]record, error) {
	var chans, keys []string
	var stamps []time.Time
	for i := range recs {
		if recs[i].HasDedupKey {
			chans = append(chans, recs[i].Channel)
			keys = append(keys, recs[i].DedupKey)
			stamps = append(stamps, recs[i].Timestamp)
		}
	}
	if len(keys) == 0 {
		return recs, nil
	}
	type lineKey struct{ channel, key string }
	seen := make(map[lineKey]bool, len(keys))
	rows, err := tx.Query(ctx, existingKeys, chans, keys, stamps)
	if err != nil {
		return nil, fmt.Errorf("look up %d dedup keys: %w", len(keys), err)
	}
	for rows.Next() {
		var k lineKey
		if err := rows.Scan(&k.channel, &k.key); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read logged dedup key: %w", err)
		}
		seen[k] = true
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("look up %d dedup keys: %w", len(keys), err)
	}
	var keep []record
	for i := range recs {
		if recs[i].HasDedupKey {
			k := lineKey{recs[i].Channel, recs[i].DedupKey}
			if seen[k] {
				if keep == nil {
					keep = append(make([]record, 0, len(recs)), recs[:i]...)
				}
				continue
			}
			seen[k] = true
		}
		if keep != nil {
			keep = append(keep, recs[i])
		}
	}
	if keep == nil {
		return recs, nil
	}
	return keep, nil
}

// copyViaStage copies into the staging table and moves the rows with
// INSERT ... ON CONFLICT DO NOTHING.
func copyViaStage(ctx context.Context, tx pgx.Tx, recs []record) (int64, error) {
	recs, err := sharePayloads(ctx, tx, recs)
	if err != nil {
		return 0, err
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{stageTable}, stageColumns, &recordSource{recs: recs, ord: true}); err != nil {
		return 0, fmt.Errorf("copy %d rows to staging: %w", len(recs), err)
	}
	tag, err := tx.Exec(ctx, moveStage)
	if err != nil {
		return 0, fmt.Errorf("move %d rows into chat log: %w", len(recs), err)
	}
	return tag.RowsAffected(), nil
}

// inTransaction runs store in a transaction and commits it, remembering the
// transaction id in case the COMMIT's answer is lost.
func (w *batchWriter) inTransaction(ctx context.Context, recs []record,
	store func(context.Context, pgx.Tx, []record) (int64, error)) (inserted int64, unsure *pendingCommit, err error) {
	ctx, cancel := context.WithTimeout(ctx, w.timeout)
	defer cancel()
	conn, err := w.pool.Acquire(ctx)
	if err != nil {
		return 0, nil, fmt.Errorf("acquire connection: %w", err)
	}
	defer conn.Release()
	tx, err := conn.Begin(ctx)
	if err != nil {
		return 0, nil, fmt.Errorf("begin: %w", err)
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback(context.WithoutCancel(ctx))
		}
	}()
	if inserted, err = store(ctx, tx, recs); err != nil {
		return 0, nil, err
	}
	var xid int64
	if err = tx.QueryRow(ctx, currentXID).Scan(&xid); err != nil {
		return 0, nil, fmt.Errorf("read transaction id: %w", err)
	}
	if err = tx.Commit(ctx); err != nil {
		if classify(err) == failDown {
			unsure = &pendingCommit{xid: xid, n: len(recs)}
		}
		return 0, unsure, fmt.Errorf("commit %d rows: %w", len(recs), err)
	}
	return inserted, nil, nil
}

// committed asks whether transaction xid committed. A transaction still in
// progress (the server has not yet noticed the dropped session) is an error
// so that the caller tries again later.
func (w *batchWriter) committed(ctx context.Context, xid int64) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, w.timeout)
	defer cancel()
	var status *string
	if err := w.pool.QueryRow(ctx, xidStatus, xid).Scan(&status); err != nil {
		return false, fmt.Errorf("check outcome of transaction %d: %w", xid, err)
	}
	switch {
	case status == nil || *status == "aborted":
		return false, nil
	case *status == "committed":
		return true, nil
	}
	return false, fmt.Errorf("transaction %d (%s): %w", xid, *status, errStillRunning)
}

// ping checks that a connection can be made and used.
func (w *batchWriter) ping(ctx context.Context) error {
	if w.pool == nil {
		return errNoPool
	}
	ctx, cancel := context.WithTimeout(ctx, w.timeout)
	defer cancel()
	if err := w.pool.Ping(ctx); err != nil {
		return fmt.Errorf("ping database: %w", err)
	}
	return nil
}

// quarantine is the form of a row PostgreSQL refused: the indexed columns
// that could carry the offending value are left empty and the whole record
// is kept as base64 in metadata, so it can be recovered by hand.
func quarantine(r *record, cause error) record {
	m := metaBuilder{}
	m.raw("quarantined", []byte("true"))
	var kept struct {
		Seq json.RawMessage `json:"seq"`
	}
	if json.Unmarshal(r.Metadata, &kept) == nil && len(kept.Seq) > 0 {
		m.json("seq", kept.Seq) // so the row still sorts with its neighbours
	}
	m.str("error", cause.Error())
	if line, err := encodeSpillLine(r); err == nil {
		m.str("record_b64", base64.StdEncoding.EncodeToString(line))
	} else {
		m.str("metadata_b64", base64.StdEncoding.EncodeToString(r.Metadata))
	}
	return record{
		Timestamp: r.Timestamp, ReceivedAt: r.ReceivedAt, Channel: r.Channel, EventType: r.EventType,
		DedupKey: r.DedupKey, HasDedupKey: r.HasDedupKey, Metadata: m.finish(),
	}
}

// recordSource feeds records to CopyFrom without building a [][]any first;
// with ord set each row starts with its position, for the staging table.
type recordSource struct {
	recs []record
	ord  bool
	i    int
	vals []any
}

func (s *recordSource) Next() bool {
	s.i++
	return s.i <= len(s.recs)
}

func (s *recordSource) Values() ([]any, error) {
	s.vals = s.vals[:0]
	if s.ord {
		s.vals = append(s.vals, int32(s.i))
	}
	s.vals = s.recs[s.i-1].appendValues(s.vals)
	return s.vals, nil
}

func (s *recordSource) Err() error { return nil }
