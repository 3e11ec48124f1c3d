package migrations

import (
	"testing"
	"time"

	"github.com/daz-bot/daz/migrations/pgtest"
)

// benchRows is the chat log size of BenchmarkPartitionMigration: a busy
// channel's half year.
const benchRows = 5_000_000

// BenchmarkPartitionMigration times migration 00025 on a 5 M-row chat log
// spread over six months, every index of the earlier migrations in place.
func BenchmarkPartitionMigration(b *testing.B) {
	var total time.Duration
	for range b.N {
		b.StopTimer()
		dbURL := pgtest.New(b)
		// Rows first, indexes after (migrations 2 to 22 build them on the
		// full table): seeding through eight indexes would take longer than
		// what is measured.
		migrateTo(b, dbURL, 1)
		conn := pgtest.Connect(b, dbURL)
		began := time.Now()
		_, err := conn.Exec(b.Context(), `
			INSERT INTO daz_core_chat_log (timestamp, channel, username, message, event_type, metadata, received_at, dedup_key)
			SELECT ts, 'chan' || (g % 4), 'user' || (g % 211), msg, kind,
			       jsonb_build_object('payload', jsonb_build_object('username', 'user' || (g % 211), 'msg', msg), 'seq', g),
			       ts, CASE WHEN kind = 'chatMsg' THEN 'c1:' || md5(g::text) END
			FROM generate_series(1, $1::int) g
			CROSS JOIN LATERAL (SELECT now() - (g * interval '6 months' / $1::int) AS ts,
				CASE WHEN g % 12 = 0 THEN 'addUser' ELSE 'chatMsg' END AS kind,
				'word' || (g % 997) || ' and ' || 'other' || (g % 89) || ' ' || md5((g % 5003)::text) AS msg) x`, benchRows)
		if err != nil {
			b.Fatalf("seed: %v", err)
		}
		migrateTo(b, dbURL, partitionVersion()-1)
		if _, err := conn.Exec(b.Context(), `VACUUM ANALYZE daz_core_chat_log`); err != nil {
			b.Fatal(err)
		}
		b.Logf("seeded %d rows with their indexes in %v", benchRows, time.Since(began).Round(time.Second))

		b.StartTimer()
		began = time.Now()
		migrateTo(b, dbURL, partitionVersion())
		took := time.Since(began)
		b.StopTimer()
		total += took
		var n int64
		if err := pgtest.Connect(b, dbURL).QueryRow(b.Context(), `SELECT count(*) FROM daz_core_chat_log`).Scan(&n); err != nil || n != benchRows {
			b.Fatalf("after the conversion: %d rows, %v", n, err)
		}
	}
	secs := total.Seconds() / float64(b.N)
	b.ReportMetric(secs, "s/conversion")
	b.ReportMetric(secs/(benchRows/1e6), "s/Mrows")
}
