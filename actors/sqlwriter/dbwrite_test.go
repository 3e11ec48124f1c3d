package sqlwriter

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/daz-bot/daz/actors/actorkit/actortest"
	"github.com/daz-bot/daz/actors/internal/testpg"
)

func newBatchWriter(t *testing.T, dbURL string) *batchWriter {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	cfg.MaxConns = 1
	cfg.AfterConnect = prepareLogConn
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return &batchWriter{pool: pool, timeout: time.Minute}
}

func chatRecords(t *testing.T, channel string, times ...int64) []record {
	t.Helper()
	var out []record
	for i, ms := range times {
		rec, _ := newRecord(decoded(t, channel, uint64(i+1), testStart, "chatMsg",
			chatPayload("alice", fmt.Sprintf("line at %d", ms), ms)), testStart)
		out = append(out, rec)
	}
	return out
}

func TestBothWritePathsDeduplicateAndKeepOrder(t *testing.T) {
	t.Parallel()
	dbURL := testpg.NewMigrated(t)
	pool := testpg.Pool(t, dbURL)
	bw := newBatchWriter(t, dbURL)
	ctx := context.Background()

	for _, path := range []struct {
		name  string
		store func(context.Context, pgx.Tx, []record) (int64, error)
	}{{"direct", copyDirect}, {"staging", copyViaStage}} {
		channel := "paths_" + path.name
		if n, _, err := bw.inTransaction(ctx, chatRecords(t, channel, 1, 2, 3), path.store); err != nil || n != 3 {
			t.Fatalf("%s: first batch: %d, %v", path.name, n, err)
		}
		// 2 and 3 are logged already, 4 appears twice in the batch; 5 and
		// the usercount are new.
		batch := chatRecords(t, channel, 2, 4, 3, 4, 5)
		usercount, _ := newRecord(decoded(t, channel, 6, testStart, "usercount", 7), testStart)
		batch = append(batch, usercount)
		n, _, err := bw.inTransaction(ctx, batch, path.store)
		if err != nil || n != 3 {
			t.Fatalf("%s: second batch inserted %d, %v; want 3", path.name, n, err)
		}
		var got []string
		rows, err := pool.Query(ctx, `SELECT coalesce(message, event_type) FROM daz_core_chat_log WHERE channel = $1 ORDER BY id`, channel)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				t.Fatal(err)
			}
			got = append(got, s)
		}
		rows.Close()
		want := "line at 1,line at 2,line at 3,line at 4,line at 5,usercount"
		if strings.Join(got, ",") != want {
			t.Fatalf("%s: rows %v, want %s", path.name, got, want)
		}
	}
}

// A line committed by someone else after the writer looked for it but before
// its COPY makes the COPY fail; the batch is then written through the
// staging table, which skips the line.
func TestLineCommittedDuringCopyFallsBackToStaging(t *testing.T) {
	t.Parallel()
	dbURL := testpg.NewMigrated(t)
	pool := testpg.Pool(t, dbURL)
	bw := newBatchWriter(t, dbURL)
	ctx := context.Background()
	recs := chatRecords(t, "race", 1, 2, 3)

	other, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = other.Rollback(ctx) }()
	// The same line from another writer: same key, and the same server
	// time, since the key is derived from it.
	if _, err := other.Exec(ctx, `INSERT INTO daz_core_chat_log (timestamp, channel, event_type, metadata, dedup_key)
		VALUES ($1, 'race', 'chatMsg', '{"seq":0}', $2)`, recs[1].Timestamp, recs[1].DedupKey); err != nil {
		t.Fatal(err)
	}
	type result struct {
		n   int64
		err error
	}
	done := make(chan result, 1)
	go func() {
		n, _, err := bw.commitBatch(ctx, recs)
		done <- result{n, err}
	}()
	actortest.CheckFor(t, 30*time.Second, "copy waiting on the uncommitted line", func() bool {
		var waiting int
		err := pool.QueryRow(ctx, `SELECT count(*) FROM pg_locks WHERE locktype = 'transactionid' AND NOT granted`).Scan(&waiting)
		return err == nil && waiting > 0
	})
	if err := other.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	r := <-done
	if r.err != nil || r.n != 2 {
		t.Fatalf("batch after the race: inserted %d, %v; want 2", r.n, r.err)
	}
	// The other writer's row (seq 0) took line 2's place; lines 1 and 3
	// follow it, each once.
	if got := fmt.Sprint(seqsInIDOrder(t, pool, "race")); got != "[0 1 3]" {
		t.Fatalf("seqs by id %s, want [0 1 3]", got)
	}
}

// Looking up a batch's dedup keys must stay index probes however big the
// log and the batch get, each in the partition of its line's month.
func TestDedupLookupNeverScansTheLog(t *testing.T) {
	t.Parallel()
	dbURL := testpg.NewMigrated(t)
	pool := testpg.Pool(t, dbURL)
	ctx := context.Background()
	if _, err := pool.Exec(ctx, `INSERT INTO daz_core_chat_log (timestamp, channel, event_type, dedup_key)
		SELECT now(), 'big', 'chatMsg', 'c1:' || md5(i::text) FROM generate_series(1, 100000) AS i`); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `ANALYZE daz_core_chat_log`); err != nil {
		t.Fatal(err)
	}
	chans := make([]string, 4000)
	keys := make([]string, 4000)
	stamps := make([]time.Time, 4000)
	for i := range keys {
		chans[i], keys[i], stamps[i] = "big", fmt.Sprintf("c1:%032d", i), time.Now()
	}
	rows, err := pool.Query(ctx, "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) "+existingKeys, chans, keys, stamps)
	if err != nil {
		t.Fatal(err)
	}
	var plan []string
	for rows.Next() {
		var line string
		if err := rows.Scan(&line); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, line)
	}
	rows.Close()
	text := strings.Join(plan, "\n")
	// Each partition's copy of the dedup index has a name of its own.
	rows, err = pool.Query(ctx, `SELECT relid::regclass::text FROM pg_partition_tree('daz_core_chat_log_dedup_key')`)
	if err != nil {
		t.Fatal(err)
	}
	dedupIndexes, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	probes := slices.ContainsFunc(dedupIndexes, func(name string) bool { return strings.Contains(text, " using "+name+" on ") })
	// Run-time pruning leaves the other months' (empty, so seq-scanned)
	// partitions unexecuted: each key visits its own month only.
	scans := slices.ContainsFunc(plan, func(line string) bool {
		return strings.Contains(line, "Seq Scan on daz_core_chat_log") && !strings.Contains(line, "(never executed)")
	})
	if scans || !probes {
		t.Fatalf("dedup lookup plan does not probe the index:\n%s", text)
	}
}

// After a COMMIT whose answer was lost, the next attempt asks PostgreSQL
// whether it went through instead of guessing: a committed batch is not
// written again, an aborted one is.
func TestUnsureCommitIsResolvedByTransactionStatus(t *testing.T) {
	t.Parallel()
	dbURL := testpg.NewMigrated(t)
	pool := testpg.Pool(t, dbURL)
	bw := newBatchWriter(t, dbURL)
	ctx := context.Background()

	xidOf := func(commit bool) int64 {
		t.Helper()
		tx, err := pool.Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var xid int64
		if err := tx.QueryRow(ctx, currentXID).Scan(&xid); err != nil {
			t.Fatal(err)
		}
		if commit {
			err = tx.Commit(ctx)
		} else {
			err = tx.Rollback(ctx)
		}
		if err != nil {
			t.Fatal(err)
		}
		return xid
	}

	recs := chatRecords(t, "unsure", 1, 2, 3)
	out := bw.write(ctx, recs, &pendingCommit{xid: xidOf(true), n: 2})
	if out.err != nil || out.done != 2 || countRows(t, pool, "") != 0 {
		t.Fatalf("committed batch: done %d, err %v, rows %d; want 2 done and nothing rewritten", out.done, out.err, countRows(t, pool, ""))
	}
	out = bw.write(ctx, recs, &pendingCommit{xid: xidOf(false), n: 3})
	if out.err != nil || out.done != 3 || countRows(t, pool, "") != 3 {
		t.Fatalf("aborted batch: done %d, err %v, rows %d; want it written", out.done, out.err, countRows(t, pool, ""))
	}

	// Still running: the answer is "try again later", keeping the question.
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	var running int64
	if err := tx.QueryRow(ctx, currentXID).Scan(&running); err != nil {
		t.Fatal(err)
	}
	out = bw.write(ctx, recs, &pendingCommit{xid: running, n: 3})
	if out.err == nil || out.unsure == nil || out.done != 0 || out.kind != failOther {
		t.Fatalf("in-progress batch: %+v", out)
	}
}
