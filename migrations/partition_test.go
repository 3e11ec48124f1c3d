package migrations

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/pressly/goose/v3"

	"github.com/daz-bot/daz/actors/actorkit"
	"github.com/daz-bot/daz/actors/actorkit/actortest"
	"github.com/daz-bot/daz/actors/sqlwriter"
	"github.com/daz-bot/daz/messages"
	"github.com/daz-bot/daz/migrations/pgtest"
)

// partitionVersion is the migration that partitions the chat log, read
// from its file name so renumbering at a merge needs no edit here.
func partitionVersion() int64 {
	names, err := fs.Glob(files, "*_core_chat_log_partitioned.sql")
	if err != nil || len(names) != 1 {
		panic(fmt.Sprintf("partition migration: %v %v", names, err))
	}
	v, err := strconv.ParseInt(names[0][:5], 10, 64)
	if err != nil {
		panic(err)
	}
	return v
}

func migrateTo(t testing.TB, dbURL string, version int64) {
	t.Helper()
	err := withProvider(dbURL, files, func(p *goose.Provider) error {
		current, err := p.GetDBVersion(t.Context())
		if err != nil {
			return err
		}
		if current > version {
			_, err = p.DownTo(t.Context(), version)
		} else {
			_, err = p.UpTo(t.Context(), version)
		}
		return err
	})
	if err != nil {
		t.Fatalf("migrate to %d: %v", version, err)
	}
}

// logFingerprint is everything stored in the chat log, row by row in id
// order, and what the view over it shows.
type logFingerprint struct {
	rows       int64
	maxID      int64
	table      string
	view       string
	indexNames []string
}

func fingerprint(t testing.TB, conn *pgx.Conn) logFingerprint {
	t.Helper()
	var f logFingerprint
	err := conn.QueryRow(t.Context(), `SELECT count(*), coalesce(max(id), 0),
		coalesce(md5(string_agg(row_to_json(l)::text, E'\n' ORDER BY id)), '') FROM daz_core_chat_log l`).Scan(&f.rows, &f.maxID, &f.table)
	if err != nil {
		t.Fatalf("fingerprint chat log: %v", err)
	}
	err = conn.QueryRow(t.Context(), `SELECT coalesce(md5(string_agg(row_to_json(v)::text, E'\n' ORDER BY id)), '') FROM daz_core_chat_log_full v`).Scan(&f.view)
	if err != nil {
		t.Fatalf("fingerprint chat log view: %v", err)
	}
	rows, err := conn.Query(t.Context(), `SELECT indexname FROM pg_indexes WHERE schemaname = 'public' AND tablename = 'daz_core_chat_log' ORDER BY 1`)
	if err != nil {
		t.Fatalf("list chat log indexes: %v", err)
	}
	if f.indexNames, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
		t.Fatalf("read chat log indexes: %v", err)
	}
	return f
}

func relkind(t testing.TB, conn *pgx.Conn) string {
	t.Helper()
	var k string
	if err := conn.QueryRow(t.Context(), `SELECT relkind::text FROM pg_class WHERE oid = 'daz_core_chat_log'::regclass`).Scan(&k); err != nil {
		t.Fatal(err)
	}
	return k
}

// seedLog fills the unpartitioned chat log with rows spread over months,
// some with shared payloads, some deduplicated chat lines, one absurdly old.
func seedLog(t testing.TB, conn *pgx.Conn, now time.Time) {
	t.Helper()
	if _, err := conn.Exec(t.Context(), `INSERT INTO daz_core_payload (sha256, payload) VALUES (sha256('big'), '{"playlist": [1, 2, 3]}')`); err != nil {
		t.Fatalf("seed payload: %v", err)
	}
	_, err := conn.Exec(t.Context(), `
		INSERT INTO daz_core_chat_log (timestamp, channel, username, message, event_type, metadata, received_at, dedup_key)
		SELECT $1::timestamptz - g * interval '37 minutes', 'chan' || (g % 3), 'user' || (g % 17), 'line ' || g,
		       CASE WHEN g % 10 = 0 THEN 'playlist' ELSE 'chatMsg' END,
		       CASE WHEN g % 10 = 0 THEN jsonb_build_object('payload_sha256', encode(sha256('big'), 'hex'))
		            ELSE jsonb_build_object('payload', jsonb_build_object('msg', 'line ' || g), 'seq', g) END,
		       $1::timestamptz - g * interval '37 minutes' + interval '1 second',
		       CASE WHEN g % 10 = 0 THEN NULL ELSE 'c1:' || md5(g::text) END
		FROM generate_series(1, 20000) g`, now)
	if err != nil {
		t.Fatalf("seed chat log: %v", err)
	}
	// Gaps in the ids, as rollbacks leave them.
	if _, err := conn.Exec(t.Context(), `
		INSERT INTO daz_core_chat_log (timestamp, channel, event_type) VALUES ('1990-06-01Z', 'chan0', 'ancient');
		DELETE FROM daz_core_chat_log WHERE id % 1000 = 7`); err != nil {
		t.Fatalf("seed chat log: %v", err)
	}
}

// The conversion keeps every row, id and payload, the view and the index
// set; new rows continue the ids; down gives the same table back.
func TestPartitionMigrationKeepsEveryRowAndGoesBack(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.New(t)
	migrateTo(t, dbURL, partitionVersion()-1)
	conn := pgtest.Connect(t, dbURL)
	now := time.Now().UTC()
	seedLog(t, conn, now)
	// Every past month with rows (25 years back at most) gets a partition,
	// then this month and three ahead; the row older than that goes to
	// DEFAULT.
	var pastMonths int
	if err := conn.QueryRow(t.Context(), `SELECT count(DISTINCT date_trunc('month', timestamp AT TIME ZONE 'UTC'))
		FROM daz_core_chat_log WHERE timestamp >= now() - interval '25 years'
		  AND timestamp < date_trunc('month', now() AT TIME ZONE 'UTC') AT TIME ZONE 'UTC'`).Scan(&pastMonths); err != nil {
		t.Fatal(err)
	}
	before := fingerprint(t, conn)
	if before.rows < 19000 {
		t.Fatalf("seeded only %d rows", before.rows)
	}

	migrateTo(t, dbURL, partitionVersion())
	conn = pgtest.Connect(t, dbURL) // plans cached on the old table's oid
	if k := relkind(t, conn); k != "p" {
		t.Fatalf("chat log relkind %q after up, want p (partitioned)", k)
	}
	after := fingerprint(t, conn)
	if after.rows != before.rows || after.maxID != before.maxID || after.table != before.table {
		t.Fatalf("rows changed by the conversion: %+v, was %+v", after, before)
	}
	if after.view != before.view {
		t.Error("daz_core_chat_log_full shows other rows after the conversion")
	}
	if !slices.Equal(after.indexNames, before.indexNames) {
		t.Errorf("indexes after up %v, before %v", after.indexNames, before.indexNames)
	}
	var months, inDefault int
	if err := conn.QueryRow(t.Context(), `SELECT count(*) FROM pg_inherits WHERE inhparent = 'daz_core_chat_log'::regclass`).Scan(&months); err != nil {
		t.Fatal(err)
	}
	if wantMonths := pastMonths + 4 + 1; pastMonths < 12 || months != wantMonths {
		t.Errorf("%d partitions, want %d (%d past months)", months, wantMonths, pastMonths)
	}
	if err := conn.QueryRow(t.Context(), `SELECT count(*) FROM daz_core_chat_log_default`).Scan(&inDefault); err != nil || inDefault != 1 {
		t.Errorf("DEFAULT holds %d rows (%v), want the one from 1990", inDefault, err)
	}
	var nextID int64
	if err := conn.QueryRow(t.Context(), `INSERT INTO daz_core_chat_log (timestamp, channel, event_type) VALUES (now(), 'chan0', 'x') RETURNING id`).Scan(&nextID); err != nil {
		t.Fatal(err)
	}
	if nextID <= before.maxID {
		t.Errorf("new row got id %d, not after %d", nextID, before.maxID)
	}
	if _, err := conn.Exec(t.Context(), `DELETE FROM daz_core_chat_log WHERE id = $1`, nextID); err != nil {
		t.Fatal(err)
	}

	migrateTo(t, dbURL, partitionVersion()-1)
	conn = pgtest.Connect(t, dbURL)
	if k := relkind(t, conn); k != "r" {
		t.Fatalf("chat log relkind %q after down, want r", k)
	}
	back := fingerprint(t, conn)
	if back.rows != before.rows || back.table != before.table || back.view != before.view {
		t.Fatalf("rows changed by down: %+v, was %+v", back, before)
	}
	if !slices.Equal(back.indexNames, before.indexNames) {
		t.Errorf("indexes after down %v, before %v", back.indexNames, before.indexNames)
	}
	var def string
	if err := conn.QueryRow(t.Context(), `SELECT indexdef FROM pg_indexes WHERE indexname = 'daz_core_chat_log_dedup_key'`).Scan(&def); err != nil {
		t.Fatal(err)
	}
	if want := "(channel, dedup_key) WHERE"; !strings.Contains(def, want) {
		t.Errorf("dedup index after down %q, want %q", def, want)
	}
}

// Lines the real writer logged before the conversion, replayed by a join
// burst after it, are not stored again; new lines are.
func TestWriterDeduplicatesAcrossTheConversion(t *testing.T) {
	t.Parallel()
	dbURL := pgtest.New(t)
	migrateTo(t, dbURL, partitionVersion()-1)
	now := time.Now().UTC()
	line := func(seq uint64, ms int64) *messages.Event {
		text := fmt.Sprintf("line %d", ms)
		raw, _ := json.Marshal(map[string]any{"username": "alice", "msg": text, "meta": map[string]any{}, "time": ms})
		return &messages.Event{Channel: "replay", Name: "chatMsg", Seq: seq, Received: now, Raw: raw,
			Body: &messages.ChatMsg{Username: "alice", Msg: text, Text: text, Time: ms}}
	}
	// Lines from the last weeks: several partitions after the conversion.
	stamps := make([]int64, 0, 60)
	for i := range 60 {
		stamps = append(stamps, now.Add(-time.Duration(i)*13*time.Hour).UnixMilli())
	}
	write := func(events []*messages.Event) int64 {
		t.Helper()
		metrics := &sqlwriter.Metrics{}
		sys := actorkit.NewSystem(actortest.Logger(t, slog.LevelInfo), nil)
		pid, err := sys.Root().SpawnNamed(sqlwriter.Props(sys, sqlwriter.Config{DatabaseURL: dbURL, DataDir: t.TempDir(), Metrics: metrics}), "sqlwriter")
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range events {
			sys.Send(pid, ev)
		}
		actortest.CheckFor(t, 30*time.Second, "every event handled", func() bool {
			return metrics.RowsWritten.Load()+metrics.Duplicates.Load() == int64(len(events))
		})
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := sys.Shutdown(ctx, pid.Id); err != nil {
			t.Fatal(err)
		}
		return metrics.RowsWritten.Load()
	}
	var first []*messages.Event
	for i, ms := range stamps {
		first = append(first, line(uint64(i+1), ms))
	}
	if n := write(first); n != int64(len(stamps)) {
		t.Fatalf("before the conversion the writer stored %d lines, want %d", n, len(stamps))
	}

	migrateTo(t, dbURL, partitionVersion())

	// The next join burst replays the last 30 lines, then 5 new ones follow.
	var replay []*messages.Event
	for i, ms := range stamps[:30] {
		replay = append(replay, line(uint64(i+1), ms))
	}
	for i := range 5 {
		replay = append(replay, line(uint64(31+i), now.Add(time.Duration(i+1)*time.Second).UnixMilli()))
	}
	if n := write(replay); n != 5 {
		t.Errorf("after the conversion the writer stored %d lines of the replay, want only the 5 new", n)
	}
	conn := pgtest.Connect(t, dbURL)
	var rows, keys int
	if err := conn.QueryRow(t.Context(), `SELECT count(*), count(DISTINCT dedup_key) FROM daz_core_chat_log WHERE channel = 'replay'`).Scan(&rows, &keys); err != nil {
		t.Fatal(err)
	}
	if rows != len(stamps)+5 || keys != rows {
		t.Errorf("chat log holds %d lines with %d keys, want %d each", rows, keys, len(stamps)+5)
	}
}

// A new database starts with this month and the three after it, and a
// DEFAULT partition.
func TestFreshSchemaHasThisMonthAndThreeAhead(t *testing.T) {
	t.Parallel()
	conn := migratedConn(t)
	rows, err := conn.Query(t.Context(), `SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
		WHERE i.inhparent = 'daz_core_chat_log'::regclass ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	var nowUTC time.Time
	if err := conn.QueryRow(t.Context(), `SELECT now()`).Scan(&nowUTC); err != nil {
		t.Fatal(err)
	}
	month := time.Date(nowUTC.UTC().Year(), nowUTC.UTC().Month(), 1, 0, 0, 0, 0, time.UTC)
	var want []string
	for i := range 4 {
		want = append(want, "daz_core_chat_log_p"+month.AddDate(0, i, 0).Format("200601"))
	}
	want = append(want, "daz_core_chat_log_default")
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("partitions %v, want %v", got, want)
	}
}
