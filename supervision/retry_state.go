package supervision

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// RetryState is one channel's row of daz_core_retry_state: where its
// connection is in the retry schedule, so a restarted daemon neither resets
// a cooldown nor forgets a failing round.
type RetryState struct {
	Channel       string
	RetryCount    int       // consecutive failed attempts in the current round
	CooldownUntil time.Time // zero: not cooling down
	LastAttempt   time.Time // zero: never attempted
	LastError     string
	StoppedReason string // set when the policy gave up (ban, bad password, ...)
	// CredentialsFP fingerprints the configuration the state was saved
	// under (CredentialsFingerprint): a stop caused by that configuration
	// is retried after a restart only when it changed.
	CredentialsFP string
	UpdatedAt     time.Time // read only: when the row was last written
}

// CredentialsFingerprint is a non-reversible digest of what a channel
// connects with. It is stored with the retry state; the secrets never are.
func CredentialsFingerprint(serverURL, username, password, channelPassword string) string {
	h := sha256.New()
	for _, s := range []string{serverURL, username, password, channelPassword} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	return hex.EncodeToString(h.Sum(nil))
}

// RetryStore keeps RetryState between runs. Save must return at once: the
// supervisor strategy calls it on the channel actor's goroutine, and a slow
// or dead database must never hold up a connection.
type RetryStore interface {
	Load(ctx context.Context, channel string) (RetryState, error)
	Save(state RetryState)
}

// saveTimeout bounds one write of the PostgreSQL store.
const saveTimeout = 5 * time.Second

// PgRetryStore is the RetryStore over daz_core_retry_state. Saves are
// coalesced per channel (only the newest state matters) and written by one
// goroutine; when the database is down the newest state waits, and the
// failure is logged once per outage. It keeps no retry schedule of its own:
// a waiting state is tried again when the SQL writer's probe finds the
// database back (DatabaseBack, messages.DatabaseState) or when a newer
// state of any channel is saved.
type PgRetryStore struct {
	pool   *pgxpool.Pool
	logger *slog.Logger

	mu      sync.Mutex
	pending map[string]RetryState
	wake    chan struct{}
	quit    chan struct{}
	done    chan struct{}
	closed  bool
}

// NewPgRetryStore starts the store's writer goroutine; Close stops it.
func NewPgRetryStore(pool *pgxpool.Pool, logger *slog.Logger) *PgRetryStore {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &PgRetryStore{
		pool:    pool,
		logger:  logger,
		pending: map[string]RetryState{},
		wake:    make(chan struct{}, 1),
		quit:    make(chan struct{}),
		done:    make(chan struct{}),
	}
	go s.writer()
	return s
}

const retryStateColumns = `channel, retry_count, cooldown_until, last_attempt, last_error, stopped_reason,
credentials_fp, updated_at`

// Load returns the channel's saved state, or a zero state for a channel
// never seen.
func (s *PgRetryStore) Load(ctx context.Context, channel string) (RetryState, error) {
	st, err := scanRetryState(s.pool.QueryRow(ctx,
		`SELECT `+retryStateColumns+` FROM daz_core_retry_state WHERE channel = $1`, channel))
	if errors.Is(err, pgx.ErrNoRows) {
		return RetryState{Channel: channel}, nil
	}
	if err != nil {
		return RetryState{Channel: channel}, fmt.Errorf("load retry state of %q: %w", channel, err)
	}
	return st, nil
}

func scanRetryState(row pgx.Row) (RetryState, error) {
	var st RetryState
	var cooldown, last *time.Time
	if err := row.Scan(&st.Channel, &st.RetryCount, &cooldown, &last, &st.LastError, &st.StoppedReason,
		&st.CredentialsFP, &st.UpdatedAt); err != nil {
		return st, err
	}
	if cooldown != nil {
		st.CooldownUntil = *cooldown
	}
	if last != nil {
		st.LastAttempt = *last
	}
	return st, nil
}

// ListRetryStates returns every channel's persisted state, by channel
// (`daz state`).
func ListRetryStates(ctx context.Context, pool *pgxpool.Pool) ([]RetryState, error) {
	rows, err := pool.Query(ctx, `SELECT `+retryStateColumns+` FROM daz_core_retry_state ORDER BY channel`)
	if err != nil {
		return nil, fmt.Errorf("list retry states: %w", err)
	}
	defer rows.Close()
	var out []RetryState
	for rows.Next() {
		st, err := scanRetryState(rows)
		if err != nil {
			return nil, fmt.Errorf("list retry states: %w", err)
		}
		out = append(out, st)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list retry states: %w", err)
	}
	return out, nil
}

// ResetRetryState forgets a channel's persisted state (`daz state reset`);
// it reports whether there was any. A running daemon keeps what it holds
// in memory and reads the table again only when it starts.
func ResetRetryState(ctx context.Context, pool *pgxpool.Pool, channel string) (bool, error) {
	tag, err := pool.Exec(ctx, `DELETE FROM daz_core_retry_state WHERE channel = $1`, channel)
	if err != nil {
		return false, fmt.Errorf("reset retry state of %q: %w", channel, err)
	}
	return tag.RowsAffected() > 0, nil
}

// Save queues state for writing and returns at once.
func (s *PgRetryStore) Save(state RetryState) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		s.logger.Warn("retry state saved after the store was closed; dropped", slog.String("channel", state.Channel))
		return
	}
	s.pending[state.Channel] = state
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// DatabaseBack tries the waiting states again; the daemon calls it when the
// SQL writer publishes that the database answers again.
func (s *PgRetryStore) DatabaseBack() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Close writes what is still queued (within ctx) and stops the writer.
func (s *PgRetryStore) Close(ctx context.Context) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		<-s.done
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	close(s.quit)
	<-s.done
	s.mu.Lock()
	left := s.takeLocked()
	s.mu.Unlock()
	var errs []error
	for _, st := range left {
		if err := s.write(ctx, st); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

func (s *PgRetryStore) takeLocked() []RetryState {
	out := make([]RetryState, 0, len(s.pending))
	for ch, st := range s.pending {
		out = append(out, st)
		delete(s.pending, ch)
	}
	return out
}

func (s *PgRetryStore) writer() {
	defer close(s.done)
	failing := false
	for {
		select {
		case <-s.quit:
			return
		case <-s.wake:
		}
		s.mu.Lock()
		batch := s.takeLocked()
		s.mu.Unlock()
		var failed []RetryState
		for _, st := range batch {
			ctx, cancel := context.WithTimeout(context.Background(), saveTimeout)
			err := s.write(ctx, st)
			cancel()
			if err != nil {
				failed = append(failed, st)
				if !failing {
					s.logger.Error("cannot save connection retry state; retrying when the database is back, connections keep working",
						slog.String("channel", st.Channel), slog.Any("error", err))
				}
			}
		}
		switch {
		case len(failed) > 0:
			failing = true
			s.requeue(failed)
		case failing && len(batch) > 0:
			failing = false
			s.logger.Info("connection retry state saved again")
		}
	}
}

// requeue puts back states whose write failed, unless a newer one arrived.
func (s *PgRetryStore) requeue(failed []RetryState) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, st := range failed {
		if _, newer := s.pending[st.Channel]; !newer {
			s.pending[st.Channel] = st
		}
	}
}

const saveRetryStateSQL = `INSERT INTO daz_core_retry_state
    (channel, retry_count, cooldown_until, last_attempt, last_error, stopped_reason, credentials_fp, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, now())
ON CONFLICT (channel) DO UPDATE SET
    retry_count    = EXCLUDED.retry_count,
    cooldown_until = EXCLUDED.cooldown_until,
    last_attempt   = EXCLUDED.last_attempt,
    last_error     = EXCLUDED.last_error,
    stopped_reason = EXCLUDED.stopped_reason,
    credentials_fp = EXCLUDED.credentials_fp,
    updated_at     = now()`

func (s *PgRetryStore) write(ctx context.Context, st RetryState) error {
	_, err := s.pool.Exec(ctx, saveRetryStateSQL,
		st.Channel, st.RetryCount, nullTime(st.CooldownUntil), nullTime(st.LastAttempt), st.LastError, st.StoppedReason, st.CredentialsFP)
	if err != nil {
		return fmt.Errorf("save retry state of %q: %w", st.Channel, err)
	}
	return nil
}

// nullTime stores the zero time as NULL.
func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}
