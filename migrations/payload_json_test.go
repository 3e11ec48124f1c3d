package migrations

import (
	"io/fs"
	"strconv"
	"testing"

	"github.com/daz-bot/daz/migrations/pgtest"
)

// A payload stored as jsonb before the change reads back the same through
// the view after it and after going back down; the view keeps returning
// jsonb, and a grant on it survives both ways.
func TestPayloadAsJSONKeepsPayloadsAndGrants(t *testing.T) {
	t.Parallel()
	names, err := fs.Glob(files, "*_core_payload_json.sql")
	if err != nil || len(names) != 1 {
		t.Fatalf("payload migration: %v %v", names, err)
	}
	version, err := strconv.ParseInt(names[0][:5], 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	dbURL := pgtest.New(t)
	migrateTo(t, dbURL, version-1)
	conn := pgtest.Connect(t, dbURL)
	ctx := t.Context()
	const payload = `[{"media": {"title": "a \"quoted\" <b>title</b>", "seconds": 3600}}, {"uid": 7}]`
	if _, err := conn.Exec(ctx, `INSERT INTO daz_core_payload (sha256, payload) VALUES ('\x01', $1::jsonb)`, payload); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `INSERT INTO daz_core_chat_log (timestamp, channel, username, message, event_type, metadata)
		VALUES (now(), 'c', '', '', 'playlist', '{"payload_sha256": "01", "kept": true}')`); err != nil {
		t.Fatal(err)
	}
	role := "daz_t_reader_" + strconv.FormatInt(version, 10)
	if _, err := conn.Exec(ctx, `DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '`+role+`') THEN CREATE ROLE `+role+`; END IF; END $$`); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `GRANT SELECT ON daz_core_chat_log_full TO `+role); err != nil {
		t.Fatal(err)
	}
	check := func(step, wantType string) {
		t.Helper()
		c := pgtest.Connect(t, dbURL) // a fresh session: no plan cached on the old view
		var same, granted bool
		var typ, viewType string
		err := c.QueryRow(ctx, `
			SELECT v.payload = $1::jsonb, pg_typeof(v.payload)::text,
			       (SELECT format_type(atttypid, atttypmod) FROM pg_attribute
			        WHERE attrelid = 'daz_core_payload'::regclass AND attname = 'payload'),
			       has_table_privilege($2, 'daz_core_chat_log_full', 'SELECT')
			FROM daz_core_chat_log_full v WHERE v.channel = 'c'`, payload, role).Scan(&same, &viewType, &typ, &granted)
		if err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		if !same || viewType != "jsonb" || typ != wantType || !granted {
			t.Fatalf("%s: payload same %v, view type %s, column %s (want %s), grant kept %v",
				step, same, viewType, typ, wantType, granted)
		}
	}
	check("before", "jsonb")
	migrateTo(t, dbURL, version)
	check("after", "json")
	migrateTo(t, dbURL, version-1)
	check("back down", "jsonb")
}
