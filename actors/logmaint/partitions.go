package logmaint

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/daz-bot/daz/messages"
)

// maintenanceLockID is the transaction advisory lock every maintenance
// transaction takes first, so among several daemons sharing a database one
// maintains the partitions at a time. It spells "dazlogm".
const maintenanceLockID int64 = 0x64617a6c6f676d

const (
	parentTable = "daz_core_chat_log"

	tryLock      = `SELECT pg_try_advisory_xact_lock($1)`
	setLockLimit = `SELECT set_config('lock_timeout', $1, true)`
	parentKind   = `SELECT relkind::text FROM pg_class WHERE oid = to_regclass('daz_core_chat_log')`

	// Bounds are read from the catalog rather than from the partition
	// names, so partitions made by hand are respected too. The bound
	// literals carry their UTC offset, so the cast back is exact.
	listPartitions = `SELECT c.relname, b.expr = 'DEFAULT',
       (regexp_match(b.expr, 'FROM \(''([^'']+)''\) TO \(''([^'']+)''\)'))[1]::timestamptz,
       (regexp_match(b.expr, 'FROM \(''([^'']+)''\) TO \(''([^'']+)''\)'))[2]::timestamptz
FROM pg_inherits i
JOIN pg_class c ON c.oid = i.inhrelid
CROSS JOIN LATERAL (SELECT pg_get_expr(c.relpartbound, c.oid) AS expr) b
WHERE i.inhparent = 'daz_core_chat_log'::regclass
ORDER BY 3 NULLS LAST`

	// CREATE TABLE ... PARTITION OF would take an ACCESS EXCLUSIVE lock on
	// the parent and stop ingest; a table made alone and then attached
	// needs only SHARE UPDATE EXCLUSIVE, which inserts do not wait for.
	createLike = `CREATE TABLE %s (LIKE daz_core_chat_log
	INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE INCLUDING COMPRESSION)`
	attachSQL = `SELECT format('ALTER TABLE daz_core_chat_log ATTACH PARTITION %I FOR VALUES FROM (%L) TO (%L)',
	$1::text, $2::timestamptz, $3::timestamptz)`
	detachSQL = `SELECT format('ALTER TABLE daz_core_chat_log DETACH PARTITION %I', $1::text)`
	dropSQL   = `SELECT format('DROP TABLE %I', $1::text)`
	// Attaching a month fails while DEFAULT holds a row of it, so those rows
	// move in first, ids and all.
	moveFromDefault = `WITH moved AS (DELETE FROM %s WHERE "timestamp" >= $1 AND "timestamp" < $2 RETURNING *)
INSERT INTO %s SELECT * FROM moved`
	countRows = `SELECT count(*), count(*) FILTER (WHERE "timestamp" >= $1) FROM %s`
)

var errNotPartitioned = errors.New("daz_core_chat_log is not partitioned yet (migration 00025 pending)")

// partition is one partition of the chat log as the catalog describes it.
type partition struct {
	name      string
	isDefault bool
	from, to  time.Time // zero for DEFAULT or a bound we do not read
}

// maintainer does the rounds' database work.
type maintainer struct {
	pool        *pgxpool.Pool
	monthsAhead int
	retention   time.Duration
	lockTimeout time.Duration
	log         *slog.Logger
}

// round creates the months ahead of now and drops the months past the
// retention. It stops at the first error, keeping what it did before.
func (m *maintainer) round(ctx context.Context, now time.Time) messages.LogMaintenanceReport {
	rep := messages.LogMaintenanceReport{At: now}
	created, locked, err := m.createAhead(ctx, now)
	rep.Created = created
	if err != nil || !locked {
		rep.Err, rep.Skipped = err, !locked && err == nil
		return rep
	}
	if m.retention <= 0 {
		return rep
	}
	cutoff := now.Add(-m.retention)
	for {
		dropped, locked, err := m.dropOldest(ctx, cutoff)
		switch {
		case err != nil:
			rep.Err = err
			return rep
		case !locked:
			rep.Skipped = true
			return rep
		case dropped == nil:
			return rep
		}
		rep.Dropped = append(rep.Dropped, *dropped)
	}
}

// inLockedTx runs fn in a transaction holding the maintenance lock. locked
// is false, and fn not run, when another session holds it.
func (m *maintainer) inLockedTx(ctx context.Context, fn func(pgx.Tx) error) (locked bool, err error) {
	tx, err := m.pool.Begin(ctx)
	if err != nil {
		return false, fmt.Errorf("begin maintenance: %w", err)
	}
	defer func() { _ = tx.Rollback(context.WithoutCancel(ctx)) }()
	if err := tx.QueryRow(ctx, tryLock, maintenanceLockID).Scan(&locked); err != nil {
		return false, fmt.Errorf("take maintenance lock: %w", err)
	}
	if !locked {
		return false, nil
	}
	// DDL on the chat log waits for the statements using it; a long read
	// holding us up would make every insert queue behind us, so give up
	// soon and try again next round instead.
	if _, err := tx.Exec(ctx, setLockLimit, fmt.Sprintf("%dms", m.lockTimeout.Milliseconds())); err != nil {
		return true, fmt.Errorf("set lock_timeout: %w", err)
	}
	var kind *string
	if err := tx.QueryRow(ctx, parentKind).Scan(&kind); err != nil {
		return true, fmt.Errorf("look up %s: %w", parentTable, err)
	}
	if kind == nil || *kind != "p" {
		return true, errNotPartitioned
	}
	if err := fn(tx); err != nil {
		return true, err
	}
	if err := tx.Commit(ctx); err != nil {
		return true, fmt.Errorf("commit maintenance: %w", err)
	}
	return true, nil
}

func partitions(ctx context.Context, tx pgx.Tx) ([]partition, error) {
	rows, err := tx.Query(ctx, listPartitions)
	if err != nil {
		return nil, fmt.Errorf("list chat log partitions: %w", err)
	}
	var out []partition
	for rows.Next() {
		var p partition
		var from, to *time.Time
		if err := rows.Scan(&p.name, &p.isDefault, &from, &to); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read chat log partition: %w", err)
		}
		if from != nil && to != nil {
			p.from, p.to = *from, *to
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list chat log partitions: %w", err)
	}
	return out, nil
}

// monthStart is the first instant of t's month in UTC; partitions are
// months in UTC.
func monthStart(t time.Time) time.Time {
	t = t.UTC()
	return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC)
}

func partitionName(month time.Time) string {
	return fmt.Sprintf("%s_p%04d%02d", parentTable, month.Year(), int(month.Month()))
}

// createAhead makes sure this month and the next monthsAhead each have a
// partition, all in one transaction.
func (m *maintainer) createAhead(ctx context.Context, now time.Time) ([]messages.LogPartition, bool, error) {
	var created []messages.LogPartition
	locked, err := m.inLockedTx(ctx, func(tx pgx.Tx) error {
		parts, err := partitions(ctx, tx)
		if err != nil {
			return err
		}
		var defaultName string
		for _, p := range parts {
			if p.isDefault {
				defaultName = p.name
			}
		}
		first := monthStart(now)
		for i := 0; i <= m.monthsAhead; i++ {
			from, to := first.AddDate(0, i, 0), first.AddDate(0, i+1, 0)
			if overlapsAny(parts, from, to) {
				continue
			}
			p, err := createMonth(ctx, tx, partitionName(from), defaultName, from, to)
			if err != nil {
				return err
			}
			created = append(created, p)
		}
		return nil
	})
	if err != nil {
		created = nil // rolled back
	}
	for _, p := range created {
		m.log.Info("chat log partition created", slog.String("partition", p.Name), slog.Int64("rows", p.Rows),
			slog.Time("from", p.From), slog.Time("to", p.To))
	}
	return created, locked, err
}

// overlapsAny reports whether [from, to) meets an existing range: a month
// covered in part by a partition made by hand is left alone, its other rows
// go to DEFAULT.
func overlapsAny(parts []partition, from, to time.Time) bool {
	for _, p := range parts {
		if !p.isDefault && !p.from.IsZero() && p.from.Before(to) && from.Before(p.to) {
			return true
		}
	}
	return false
}

func createMonth(ctx context.Context, tx pgx.Tx, name, defaultName string, from, to time.Time) (messages.LogPartition, error) {
	p := messages.LogPartition{Name: name, From: from, To: to}
	ident := pgx.Identifier{name}.Sanitize()
	if _, err := tx.Exec(ctx, fmt.Sprintf(createLike, ident)); err != nil {
		return p, fmt.Errorf("create partition %s: %w", name, err)
	}
	if defaultName != "" {
		tag, err := tx.Exec(ctx, fmt.Sprintf(moveFromDefault, pgx.Identifier{defaultName}.Sanitize(), ident), from, to)
		if err != nil {
			return p, fmt.Errorf("move %s rows out of %s: %w", name, defaultName, err)
		}
		p.Rows = tag.RowsAffected()
	}
	if err := execFormatted(ctx, tx, attachSQL, name, from, to); err != nil {
		return p, fmt.Errorf("attach partition %s: %w", name, err)
	}
	return p, nil
}

// execFormatted has PostgreSQL quote the identifiers and literals of a DDL
// statement (DDL takes no parameters) and then runs it.
func execFormatted(ctx context.Context, tx pgx.Tx, format string, args ...any) error {
	var stmt string
	if err := tx.QueryRow(ctx, format, args...).Scan(&stmt); err != nil {
		return fmt.Errorf("format statement: %w", err)
	}
	if _, err := tx.Exec(ctx, stmt); err != nil {
		return err
	}
	return nil
}

// dropOldest detaches and drops the oldest partition whose whole range is
// older than cutoff, if there is one. DETACH ... CONCURRENTLY is refused on
// a table with a DEFAULT partition, so the detach takes the parent's ACCESS
// EXCLUSIVE lock: for the few milliseconds of a catalog change, bounded by
// lock_timeout, inserts wait for it (they are not refused).
func (m *maintainer) dropOldest(ctx context.Context, cutoff time.Time) (*messages.LogPartition, bool, error) {
	var dropped *messages.LogPartition
	locked, err := m.inLockedTx(ctx, func(tx pgx.Tx) error {
		parts, err := partitions(ctx, tx)
		if err != nil {
			return err
		}
		for _, p := range parts {
			if p.isDefault || p.to.IsZero() || p.to.After(cutoff) {
				continue
			}
			var rows, newer int64
			ident := pgx.Identifier{p.name}.Sanitize()
			if err := tx.QueryRow(ctx, fmt.Sprintf(countRows, ident), cutoff).Scan(&rows, &newer); err != nil {
				return fmt.Errorf("count rows of %s: %w", p.name, err)
			}
			if newer > 0 {
				// Its bounds say this cannot be; keep the rows and say so.
				m.log.Error("chat log partition past the retention still has newer rows; not dropped",
					slog.String("partition", p.name), slog.Int64("rows", newer), slog.Time("cutoff", cutoff))
				continue
			}
			if err := execFormatted(ctx, tx, detachSQL, p.name); err != nil {
				return fmt.Errorf("detach partition %s: %w", p.name, err)
			}
			if err := execFormatted(ctx, tx, dropSQL, p.name); err != nil {
				return fmt.Errorf("drop partition %s: %w", p.name, err)
			}
			dropped = &messages.LogPartition{Name: p.name, From: p.from, To: p.to, Rows: rows}
			return nil
		}
		return nil
	})
	if err != nil {
		return nil, locked, err
	}
	if dropped != nil {
		m.log.Info("chat log partition dropped", slog.String("partition", dropped.Name), slog.Int64("rows", dropped.Rows),
			slog.Time("from", dropped.From), slog.Time("to", dropped.To), slog.Time("cutoff", cutoff))
	}
	return dropped, locked, nil
}
