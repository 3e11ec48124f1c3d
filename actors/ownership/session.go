package ownership

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// LockClass is the first key of every channel lock
// (pg_try_advisory_lock(int4, int4)); it spells "daz". The two-key form
// lives in its own key space (objsubid 2 in pg_locks), apart from the
// migrations' one-key lock.
const LockClass int32 = 0x0064617a

// AppNamePrefix starts the application_name of every lock session, which is
// how pg_stat_activity tells which daemon holds a lock.
const AppNamePrefix = "daz:"

// NotifyChannel is where daemons announce taking, handing over and
// leaving (pg_notify), so the others run a round at once.
const NotifyChannel = "daz_cluster"

// session is the one dedicated connection whose database session holds
// this daemon's channel locks. Its methods block; only the worker
// goroutine calls them, one at a time.
type session struct {
	cfg  Config
	conn *pgx.Conn
	// registered is set once daz_nodes has this process's started_at.
	registered bool
}

// status is one round's truth, read from the database.
type status struct {
	now      time.Time // the database's clock
	channels []channelLock
	nodes    []nodeRow
}

type channelLock struct {
	name  string
	key   int32  // hashtext(name): channels with equal keys share one lock
	owner string // node holding the lock; "" when unowned
	mine  bool   // held by this session
}

type nodeRow struct {
	name        string
	startedAt   time.Time
	heartbeatAt time.Time
	live        bool // a lock session of that name is connected now
}

// AuthError reports that the database refused this daemon's credentials or
// database name: a setting to fix, not an outage to wait out.
type AuthError struct{ Err error }

func (e *AuthError) Error() string { return e.Err.Error() }
func (e *AuthError) Unwrap() error { return e.Err }

// Probe opens and closes one connection the way the lock session does, so
// the app can refuse to start (exit 2) on a password or database name the
// server rejects, before anything is taken. Other failures (the database
// is down) are returned as they are: the actor waits for the database.
func Probe(ctx context.Context, databaseURL string) error {
	cfg, err := pgx.ParseConfig(databaseURL)
	if err != nil {
		return &AuthError{Err: err}
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return classify(err)
	}
	return conn.Close(ctx)
}

// classify marks the errors no retry can fix.
func classify(err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "28P01", "28000", "3D000": // bad password, no such role/hba entry, no such database
			return &AuthError{Err: err}
		}
	}
	return err
}

func (s *session) open(ctx context.Context) error {
	cfg, err := pgx.ParseConfig(s.cfg.DatabaseURL)
	if err != nil {
		return &AuthError{Err: err}
	}
	cfg.RuntimeParams["application_name"] = AppNamePrefix + s.cfg.Node
	// A handful of fixed statements; pgx's default caches (512 entries
	// each) would cost ~56 KB for nothing.
	cfg.StatementCacheCapacity = 16
	cfg.DescriptionCacheCapacity = 16
	// The server-side keepalives make the server end this session, and so
	// free its locks, soon after the network to this daemon is gone.
	ka := s.cfg.Timings.keepalive()
	cfg.RuntimeParams["tcp_keepalives_idle"] = strconv.Itoa(ka.idle)
	cfg.RuntimeParams["tcp_keepalives_interval"] = strconv.Itoa(ka.interval)
	cfg.RuntimeParams["tcp_keepalives_count"] = strconv.Itoa(ka.count)
	if cfg.ConnectTimeout == 0 || cfg.ConnectTimeout > s.cfg.Timings.Tick {
		cfg.ConnectTimeout = s.cfg.Timings.Tick
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("open lock session: %w", classify(err))
	}
	s.conn = conn
	return nil
}

// close ends the session, which releases every lock it holds.
func (s *session) close() {
	if s.conn == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = s.conn.Close(ctx)
	s.conn = nil
}

// alive reports whether the session can still be used; a connection pgx
// closed after an error or a cancelled query has lost its locks.
func (s *session) alive() bool { return s.conn != nil && !s.conn.IsClosed() }

// heartbeat confirms the session (a query that succeeds on it proves the
// session, and so every lock it holds, is still there), records the
// heartbeat with the database's clock, and reads who owns what.
func (s *session) heartbeat(ctx context.Context, channels []string) (status, error) {
	if !s.alive() {
		s.conn = nil
		if err := s.open(ctx); err != nil {
			return status{}, err
		}
	}
	upsert := `INSERT INTO daz_nodes (name, started_at, heartbeat_at) VALUES ($1, now(), now())
		ON CONFLICT (name) DO UPDATE SET heartbeat_at = now()`
	if !s.registered {
		upsert = `INSERT INTO daz_nodes (name, started_at, heartbeat_at) VALUES ($1, now(), now())
			ON CONFLICT (name) DO UPDATE SET started_at = now(), heartbeat_at = now()`
	}
	if _, err := s.conn.Exec(ctx, upsert, s.cfg.Node); err != nil {
		return status{}, fmt.Errorf("heartbeat: %w", err)
	}
	s.registered = true
	var st status
	rows, err := s.conn.Query(ctx, `
		SELECT c.name, hashtext(c.name), coalesce(a.application_name, ''), coalesce(l.pid = pg_backend_pid(), false)
		FROM unnest($1::text[]) AS c(name)
		LEFT JOIN pg_locks l ON l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
			AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
			AND l.classid = $2::int4::oid AND l.objid = hashtext(c.name)::oid
		LEFT JOIN pg_stat_activity a ON a.pid = l.pid
		ORDER BY c.name`, channels, LockClass)
	if err != nil {
		return status{}, fmt.Errorf("read channel locks: %w", err)
	}
	for rows.Next() {
		var c channelLock
		var app string
		if err := rows.Scan(&c.name, &c.key, &app, &c.mine); err != nil {
			rows.Close()
			return status{}, fmt.Errorf("read channel locks: %w", err)
		}
		if c.owner = strings.TrimPrefix(app, AppNamePrefix); c.owner == "" && app == "" && c.mine {
			c.owner = s.cfg.Node
		}
		st.channels = append(st.channels, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return status{}, fmt.Errorf("read channel locks: %w", err)
	}
	// A node is live while a lock session of its name is connected to this
	// database: a daemon that died has no session, whatever its last
	// heartbeat says. Rows silent for a day are forgotten.
	rows, err = s.conn.Query(ctx, `
		WITH gone AS (DELETE FROM daz_nodes WHERE heartbeat_at < now() - interval '1 day')
		SELECT n.name, n.started_at, n.heartbeat_at, now(),
			EXISTS (SELECT 1 FROM pg_stat_activity a WHERE a.datname = current_database()
				AND a.application_name = $1 || n.name)
		FROM daz_nodes n ORDER BY n.name`, AppNamePrefix)
	if err != nil {
		return status{}, fmt.Errorf("read nodes: %w", err)
	}
	for rows.Next() {
		var n nodeRow
		if err := rows.Scan(&n.name, &n.startedAt, &n.heartbeatAt, &st.now, &n.live); err != nil {
			rows.Close()
			return status{}, fmt.Errorf("read nodes: %w", err)
		}
		st.nodes = append(st.nodes, n)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return status{}, fmt.Errorf("read nodes: %w", err)
	}
	return st, nil
}

// tryLock takes the locks of the given keys that are free and returns the
// keys it got. It never waits for a lock another daemon holds.
func (s *session) tryLock(ctx context.Context, keys []int32) ([]int32, error) {
	if !s.alive() {
		return nil, errors.New("lock session closed")
	}
	rows, err := s.conn.Query(ctx, `SELECT k FROM unnest($2::int4[]) AS k WHERE pg_try_advisory_lock($1, k)`, LockClass, keys)
	if err != nil {
		return nil, fmt.Errorf("take channel locks: %w", err)
	}
	got, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		return nil, fmt.Errorf("take channel locks: %w", err)
	}
	if len(got) > 0 {
		// Others react at once instead of at their next round.
		_, _ = s.conn.Exec(ctx, `SELECT pg_notify($1, $2)`, NotifyChannel, "acquired:"+s.cfg.Node)
	}
	return got, nil
}

// unlock releases one key and tells the group.
func (s *session) unlock(ctx context.Context, key int32) error {
	if !s.alive() {
		return nil // the session is gone, and its locks with it
	}
	if _, err := s.conn.Exec(ctx, `SELECT pg_advisory_unlock($1, $2)`, LockClass, key); err != nil {
		return fmt.Errorf("release channel lock: %w", err)
	}
	_, _ = s.conn.Exec(ctx, `SELECT pg_notify($1, $2)`, NotifyChannel, "released:"+s.cfg.Node)
	return nil
}

// leave removes this daemon from daz_nodes (a graceful stop: nobody has to
// wait out a quarantine for it) and ends the session.
func (s *session) leave() {
	if s.alive() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		_, _ = s.conn.Exec(ctx, `DELETE FROM daz_nodes WHERE name = $1`, s.cfg.Node)
		_, _ = s.conn.Exec(ctx, `SELECT pg_notify($1, $2)`, NotifyChannel, "left:"+s.cfg.Node)
		cancel()
	}
	s.close()
}
