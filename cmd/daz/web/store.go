package web

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/daz-bot/daz/actors/plugins/analytics"
)

// DefaultStatementTimeout bounds every query of the web's read pool: a page
// that would take longer fails (and says so) instead of holding a
// connection the next request needs.
const DefaultStatementTimeout = 3 * time.Second

// OpenPool opens the web's own small read pool. It is separate from the SQL
// writer's connections, so a slow page never delays chat-log ingest or a
// command's reply, and every statement on it has a statement_timeout.
func OpenPool(ctx context.Context, databaseURL string, maxConns int32, timeout time.Duration) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(databaseURL)
	if err != nil {
		return nil, fmt.Errorf("web read pool: %w", err)
	}
	if maxConns <= 0 {
		maxConns = 4
	}
	if timeout <= 0 {
		timeout = DefaultStatementTimeout
	}
	cfg.MaxConns = maxConns
	// One connection stays ready for the next page; the rest, opened for a
	// busy moment, are closed after a few idle minutes instead of holding
	// a backend each for pgx's default 30.
	cfg.MinConns = 1
	cfg.MaxConnIdleTime = 3 * time.Minute
	// The pages' statements: a few dozen distinct ones in all.
	cfg.ConnConfig.StatementCacheCapacity = 128
	cfg.ConnConfig.DescriptionCacheCapacity = 128
	cfg.ConnConfig.RuntimeParams["statement_timeout"] = strconv.FormatInt(timeout.Milliseconds(), 10)
	cfg.ConnConfig.RuntimeParams["application_name"] = "daz-web"
	// Read only: the SQL writer stays the one door for writes.
	cfg.ConnConfig.RuntimeParams["default_transaction_read_only"] = "on"
	// Page queries read a page of rows; starting parallel workers costs
	// them ~50 ms (measured), more than it saves, and the workers would
	// compete with the writer for the database's cores.
	cfg.ConnConfig.RuntimeParams["max_parallel_workers_per_gather"] = "0"
	// JIT compiling a query costs 50-200 ms; the planner turns it on for
	// anything it guesses to cost much, such as a search over the whole
	// log, which is exactly the query that cannot afford it.
	cfg.ConnConfig.RuntimeParams["jit"] = "off"
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("web read pool: %w", err)
	}
	warm(ctx, pool)
	return pool, nil
}

// warm opens every connection of the pool now, at once, so that the first
// page after a start does not wait for connections to be set up one after
// the other. A database that is away is no error here: the pool connects
// when it is back.
func warm(ctx context.Context, pool *pgxpool.Pool) {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	conns := make(chan *pgxpool.Conn, pool.Config().MaxConns)
	var wg sync.WaitGroup
	for range pool.Config().MaxConns {
		wg.Go(func() {
			if c, err := pool.Acquire(ctx); err == nil {
				conns <- c
			}
		})
	}
	wg.Wait()
	close(conns)
	for c := range conns {
		c.Release()
	}
}

// ErrUnavailable wraps every database failure a page reports as
// "temporarily unavailable".
var ErrUnavailable = errors.New("the database is temporarily unavailable")

// ErrNotFound is an unknown user (or other missing thing).
var ErrNotFound = errors.New("not found")

// unavailable turns a query error into ErrUnavailable, keeping the cause.
func unavailable(what string, err error) error {
	return fmt.Errorf("%s: %w: %w", what, ErrUnavailable, err)
}

// Line is one chat line as the web shows it.
type Line struct {
	ID     int64     `json:"id"`
	At     time.Time `json:"at"`
	User   string    `json:"user"`
	Text   string    `json:"text"`
	Hidden bool      `json:"hidden,omitempty"`
}

// HourCount is the number of chat lines in one hour.
type HourCount struct {
	Hour     time.Time `json:"hour"`
	Messages int64     `json:"messages"`
}

// Chatter is one of the top chatters.
type Chatter struct {
	User     string `json:"user"`
	Messages int64  `json:"messages"`
}

// MediaPlay is a recently played media item with how often it was played.
type MediaPlay struct {
	ID         string    `json:"id"`
	Type       string    `json:"type"`
	Title      string    `json:"title"`
	Seconds    int       `json:"seconds"`
	LastPlayed time.Time `json:"last_played"`
	Plays      int64     `json:"plays"`
}

// Stats are the numbers of a channel page. The hours are instants; the
// heatmap's weekdays and hours are those of TZ.
type Stats struct {
	Hourly  []HourCount  `json:"hourly"`  // 168 hours, oldest first
	Heatmap [7][24]int64 `json:"heatmap"` // [ISO weekday-1][hour] in TZ, 30 days
	TZ      string       `json:"tz"`
	Top     []Chatter    `json:"top"`
	Media   []MediaPlay  `json:"media"`
	AsOf    time.Time    `json:"as_of"`
}

// DayCount is one user's lines on one day.
type DayCount struct {
	Day      string `json:"day"`
	Messages int64  `json:"messages"`
}

// Queued is a media item a user queued.
type Queued struct {
	Title string    `json:"title"`
	At    time.Time `json:"at"`
}

// UserInfo is a user page.
type UserInfo struct {
	Name     string     `json:"name"`
	First    time.Time  `json:"first_seen"`
	Last     time.Time  `json:"last_seen"`
	Messages int64      `json:"messages"`
	Daily    []DayCount `json:"daily"`
	Recent   []Line     `json:"recent"`
	Queued   []Queued   `json:"queued"`
}

// MessageQuery selects chat lines. Cursors are line ids: After pages
// forward in time (oldest first), Before pages backward by id (newest
// first); with
// neither, a query with Q or User starts at the newest line, otherwise at
// the oldest.
type MessageQuery struct {
	Channel   string
	Since     time.Time
	Until     time.Time
	Q         string
	User      string
	After     int64
	Before    int64
	Limit     int
	Moderator bool // include lines only moderators see
}

// Newest reports whether the query pages newest first.
func (q MessageQuery) Newest() bool {
	return q.Before > 0 || (q.After == 0 && (q.Q != "" || q.User != ""))
}

// publicLine is true for a chat line anyone may see: not a [server] whisper
// and not a shadow-muted user's line.
const publicLine = `(username IS DISTINCT FROM '[server]'
    AND coalesce(metadata->'meta'->>'shadow', 'false') <> 'true'
    AND coalesce(metadata->'meta'->>'addClass', '') <> 'server-whisper')`

// Store answers the web's questions from the database. It is safe for
// concurrent use.
type Store struct {
	pool *pgxpool.Pool
	// Channel stats are aggregates over days; they are recomputed at most
	// once per StatsTTL per channel, so a busy page costs the database one
	// query round per TTL, not one per view.
	StatsTTL time.Duration
	// SearchWalk is how many of the newest ids a search walks first (see
	// search); SearchForce, for tests, makes the rest of it "walk" or use
	// the "index" regardless of cost.
	SearchWalk  int
	SearchForce string
	now         func() time.Time

	mu    sync.Mutex
	stats map[string]statsData
}

// statsData is what a channel's numbers are computed from: the hourly
// counts of 30 days (by UTC hour) and the two lists. It does not depend on
// the viewer's time zone, so one cached copy serves every zone.
type statsData struct {
	at    time.Time
	hours map[time.Time]int64
	top   []Chatter
	media []MediaPlay
}

// NewStore reads through pool.
func NewStore(pool *pgxpool.Pool, now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	return &Store{pool: pool, StatsTTL: DefaultStatsTTL, SearchWalk: searchWalk,
		now: now, stats: map[string]statsData{}}
}

// DefaultStatsTTL is how long a channel's numbers are reused. The hourly
// roll-up behind them moves every 30 s anyway.
const DefaultStatsTTL = 10 * time.Second

// Stats returns a channel's numbers with the heatmap in loc; bot is left
// out of the top chatters.
func (s *Store) Stats(ctx context.Context, channel, bot string, loc *time.Location) (Stats, error) {
	now := s.now().UTC()
	s.mu.Lock()
	d, ok := s.stats[channel]
	s.mu.Unlock()
	if !ok || now.Sub(d.at) >= s.StatsTTL {
		var err error
		if d, err = s.loadStats(ctx, channel, bot, now); err != nil {
			return Stats{}, err
		}
		s.mu.Lock()
		s.stats[channel] = d
		s.mu.Unlock()
	}
	return d.in(loc), nil
}

// in lays the counts out for a viewer in loc: the last 168 hours, and the
// weekday x hour heatmap of 30 days by loc's calendar. In a zone whose
// offset is not whole hours each UTC hour counts for the local hour it
// starts in.
func (d statsData) in(loc *time.Location) Stats {
	if loc == nil {
		loc = time.UTC
	}
	st := Stats{AsOf: d.at, TZ: loc.String(), Top: d.top, Media: d.media}
	first := d.at.Truncate(time.Hour).Add(-167 * time.Hour)
	st.Hourly = make([]HourCount, 0, 168)
	for i := range 168 {
		h := first.Add(time.Duration(i) * time.Hour)
		st.Hourly = append(st.Hourly, HourCount{Hour: h, Messages: d.hours[h]})
	}
	for h, n := range d.hours {
		lt := h.In(loc)
		st.Heatmap[(int(lt.Weekday())+6)%7][lt.Hour()] += n
	}
	return st
}

// ForgetStats drops the cached numbers (tests, and after new data).
func (s *Store) ForgetStats() {
	s.mu.Lock()
	s.stats = map[string]statsData{}
	s.mu.Unlock()
}

// hourlySQL reads the web plugin's hourly roll-up (migration 00022): at
// most 720 rows off its primary key however busy the channel is.
const hourlySQL = `SELECT hour, messages FROM daz_web_chat_hourly
WHERE channel = $1 AND hour >= $2`

const mediaSQL = `SELECT m.media_id, m.media_type, m.title, m.duration_seconds, m.started_at,
       (SELECT count(*) FROM daz_analytics_media c
        WHERE c.channel = m.channel AND c.media_type = m.media_type AND c.media_id = m.media_id)
FROM daz_analytics_media m
WHERE m.channel = $1
ORDER BY m.started_at DESC
LIMIT $2`

// loadStats runs the three queries at once, each on its own connection of
// the pool: a cold page costs the slowest of them, not their sum.
func (s *Store) loadStats(ctx context.Context, channel, bot string, now time.Time) (statsData, error) {
	d := statsData{at: now, hours: map[time.Time]int64{}}
	var wg sync.WaitGroup
	errs := make([]error, 3)
	wg.Go(func() {
		rows, err := s.pool.Query(ctx, hourlySQL, channel, now.Truncate(time.Hour).AddDate(0, 0, -30))
		if err != nil {
			errs[0] = unavailable("messages per hour", err)
			return
		}
		var h time.Time
		var n int64
		_, err = pgx.ForEachRow(rows, []any{&h, &n}, func() error {
			d.hours[h.UTC()] = n
			return nil
		})
		if err != nil {
			errs[0] = unavailable("messages per hour", err)
		}
	})
	wg.Go(func() {
		day := now.AddDate(0, 0, -29).Format(time.DateOnly)
		rows, err := s.pool.Query(ctx, analytics.TopSQL, channel, day, bot, 10)
		if err != nil {
			errs[1] = unavailable("top chatters", err)
			return
		}
		d.top, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Chatter, error) {
			var c Chatter
			var name *string
			err := r.Scan(&name, &c.Messages)
			if name != nil {
				c.User = *name
			}
			return c, err
		})
		if err != nil {
			errs[1] = unavailable("top chatters", err)
		}
	})
	wg.Go(func() {
		rows, err := s.pool.Query(ctx, mediaSQL, channel, 15)
		if err != nil {
			errs[2] = unavailable("recent media", err)
			return
		}
		d.media, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (MediaPlay, error) {
			var m MediaPlay
			err := r.Scan(&m.ID, &m.Type, &m.Title, &m.Seconds, &m.LastPlayed, &m.Plays)
			return m, err
		})
		if err != nil {
			errs[2] = unavailable("recent media", err)
		}
	})
	wg.Wait()
	return d, errors.Join(errs...)
}

// Messages returns the lines q selects (at most q.Limit) and whether more
// follow in the same direction.
func (s *Store) Messages(ctx context.Context, q MessageQuery) ([]Line, bool, error) {
	if q.Q == "" || !q.Newest() {
		return s.messages(ctx, s.pool, q, 0, 0, nil)
	}
	return s.search(ctx, q)
}

// querier is the pool or a transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// search pages newest first through the lines matching q.Q. Ordering the
// full-text index's matches by id costs a heap visit per match (the index
// knows no order) after reading every posting of every word of the query,
// so a word in half a million lines must never go through it; walking the
// log back for a word in one line of a thousand visits a hundred thousand
// lines. The planner cannot tell the words apart (it keeps no statistics
// for the partial index's expression), so search decides itself:
//
//  1. Walk back over the newest SearchWalk ids below the cursor, testing
//     each line with a cheap substring check before the full-text one. A
//     word in more than ~1 % of the lines fills its page here.
//  2. Otherwise count, over those same ids, how many lines hold each word
//     and how many hold them all: that estimates both ways' cost for the
//     rest of the log (walk: the lines to visit until the page is full;
//     index: its postings, plus a heap visit per line holding every word),
//     and the cheaper one runs to the end.
//
// Each step forces its plan (enable_bitmapscan or enable_indexscan off)
// inside a read-only transaction. There is no total count: the page says
// whether more lines follow, which costs one extra row.
func (s *Store) search(ctx context.Context, q MessageQuery) ([]Line, bool, error) {
	need := q.Limit + 1
	var top int64
	var words []string
	err := s.pool.QueryRow(ctx, `SELECT coalesce(max(id), 0) + 1,
       tsvector_to_array(to_tsvector('simple', translate($1, '<>', '  ')))
FROM daz_core_chat_log`, q.Q).Scan(&top, &words)
	if err != nil {
		return nil, false, unavailable("search", err)
	}
	required := allRequired(q.Q)
	var prefilter []string
	if required {
		prefilter = words
	}
	hi := top
	if q.Before > 0 {
		hi = min(q.Before, top)
	}
	lo := max(hi-int64(max(s.SearchWalk, 1)), 0)
	if s.SearchForce == "index" {
		lo = hi
	}
	lines, err := s.searchStep(ctx, q, "enable_bitmapscan", lo, hi, need, prefilter)
	if err != nil {
		return nil, false, err
	}
	if len(lines) < need && lo > 0 {
		off := "enable_bitmapscan"
		if s.SearchForce == "index" || (s.SearchForce == "" && len(words) > 0) {
			useIndex, err := s.indexCheaper(ctx, words, required, len(lines), need, lo, hi)
			if err != nil {
				return nil, false, err
			}
			if useIndex || s.SearchForce == "index" {
				off = "enable_indexscan"
			}
		}
		rest, err := s.searchRest(ctx, q, off, lo, need-len(lines), prefilter)
		if err != nil {
			return nil, false, err
		}
		lines = append(lines, rest...)
	}
	more := len(lines) > q.Limit
	if more {
		lines = lines[:q.Limit]
	}
	return lines, more, nil
}

// searchRest finds up to limit matching lines below id lo. The index way
// is one step. The walk goes back in id windows growing fourfold: the log
// is partitioned by month, and across partitions PostgreSQL returns the
// lines of an id range in id order only by sorting every match of the
// range, so one step over all of [0, lo) would read the whole log even
// when the next match is a few lines down.
func (s *Store) searchRest(ctx context.Context, q MessageQuery, off string, lo int64, limit int, prefilter []string) ([]Line, error) {
	if off == "enable_indexscan" {
		return s.searchStep(ctx, q, off, 0, lo, limit, prefilter)
	}
	var lines []Line
	window := 4 * int64(max(s.SearchWalk, 1))
	for hi := lo; hi > 0 && len(lines) < limit; window *= 4 {
		from := max(hi-window, 0)
		part, err := s.searchStep(ctx, q, off, from, hi, limit-len(lines), prefilter)
		if err != nil {
			return nil, err
		}
		lines = append(lines, part...)
		hi = from
	}
	return lines, nil
}

// Costs per unit in µs, measured on 5 M lines: a line walked, a posting
// read from the full-text index, a line fetched for a posting (a heap page
// visit and the full-text recheck).
const (
	costWalk    = 0.65
	costPosting = 0.15
	costFetch   = 4.0
)

// indexCheaper estimates, from the ids [lo, hi) just walked, whether the
// full-text index finds the remaining need-found lines below lo faster than
// walking on.
func (s *Store) indexCheaper(ctx context.Context, words []string, required bool, found, need int, lo, hi int64) (bool, error) {
	// The index holds every channel's chat lines, so the sample does too.
	var b strings.Builder
	args := []any{lo, hi}
	all := make([]string, len(words))
	b.WriteString("SELECT count(*)")
	for i, w := range words {
		args = append(args, w)
		all[i] = "strpos(lower(message), $" + strconv.Itoa(len(args)) + ") > 0"
		b.WriteString(", count(*) FILTER (WHERE " + all[i] + ")")
	}
	b.WriteString(", count(*) FILTER (WHERE " + strings.Join(all, " AND ") + ")")
	b.WriteString(" FROM daz_core_chat_log WHERE event_type = 'chatMsg' AND id >= $1 AND id < $2")
	counts := make([]int64, len(words)+2)
	dest := make([]any, len(counts))
	for i := range counts {
		dest[i] = &counts[i]
	}
	if err := s.pool.QueryRow(ctx, b.String(), args...).Scan(dest...); err != nil {
		return false, unavailable("search", err)
	}
	span := float64(hi - lo)
	var postings float64
	for _, n := range counts[1 : len(words)+1] {
		postings += float64(n) / span
	}
	candidates := float64(counts[len(words)+1]) / span
	if !required {
		candidates = postings // any word may make a match
	}
	rest := float64(lo)
	// One more than found, so a word not seen yet still has a finite density.
	density := float64(found+1) / span
	walk := min(float64(need-found)/density, rest) * costWalk
	index := rest * (postings*costPosting + candidates*costFetch)
	return index < walk, nil
}

// searchStep finds up to limit matching lines with ids in [lo, hi), newest
// first, with the named planner method switched off.
func (s *Store) searchStep(ctx context.Context, q MessageQuery, off string, lo, hi int64, limit int, prefilter []string) ([]Line, error) {
	if hi <= lo {
		return nil, nil
	}
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, unavailable("search", err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	// off is one of two constants, never user input. A sequential scan is
	// never the plan: it reads the whole log in id order, oldest first. And
	// each search is planned for its own bounds: a generic plan, which
	// PostgreSQL switches to after five runs of a prepared statement,
	// cannot tell a range of ten thousand ids from one of millions.
	if _, err := tx.Exec(ctx, "SET LOCAL "+off+" = off; SET LOCAL enable_seqscan = off; "+
		"SET LOCAL plan_cache_mode = force_custom_plan"); err != nil {
		return nil, unavailable("search", err)
	}
	q.Limit = limit
	lines, _, err := s.messages(ctx, tx, q, lo, hi, prefilter)
	return lines, err
}

// allRequired tells whether every word of a web search must occur in a
// matching line: no "or" and no -word, the two operators that make a word
// optional or unwanted. Only then may the words prefilter the lines.
func allRequired(q string) bool {
	for _, f := range strings.Fields(strings.ToLower(q)) {
		if f == "or" || strings.HasPrefix(strings.TrimLeft(f, `"`), "-") {
			return false
		}
	}
	return true
}

// messages runs one chat-line query. lo and hi, when hi > 0, bound the ids
// to [lo, hi); each of lexemes must occur in the line's lower-cased text,
// a substring test far cheaper than the full-text match it precedes (every
// word the 'simple' configuration finds is a lower-cased piece of the text,
// so the test never drops a match).
func (s *Store) messages(ctx context.Context, db querier, q MessageQuery, lo, hi int64, lexemes []string) ([]Line, bool, error) {
	var b strings.Builder
	args := []any{q.Channel}
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	b.WriteString(`SELECT id, timestamp, coalesce(username, ''), coalesce(message, ''), NOT ` + publicLine + `
FROM daz_core_chat_log WHERE channel = $1 AND event_type = 'chatMsg'`)
	if !q.Moderator {
		b.WriteString(" AND " + publicLine)
	}
	if !q.Since.IsZero() {
		b.WriteString(" AND timestamp >= " + arg(q.Since))
	}
	if !q.Until.IsZero() {
		b.WriteString(" AND timestamp < " + arg(q.Until))
	}
	if q.User != "" {
		b.WriteString(" AND lower(username) = lower(" + arg(q.User) + ")")
	}
	for _, l := range lexemes {
		b.WriteString(" AND strpos(lower(message), " + arg(l) + ") > 0")
	}
	if q.Q != "" {
		b.WriteString(" AND " + matchSQL(arg(q.Q)))
	}
	if hi > 0 {
		b.WriteString(" AND id >= " + arg(lo) + " AND id < " + arg(hi))
	}
	// Oldest first pages in time order, which the (channel, timestamp)
	// index of chat lines delivers without sorting a whole day; the cursor
	// is still a line id, whose time is looked up by primary key. Newest
	// first (search, a user's lines) pages by id.
	switch {
	case q.After > 0:
		a := arg(q.After)
		b.WriteString(" AND (timestamp, id) > ((SELECT timestamp FROM daz_core_chat_log WHERE id = " + a + "), " + a + ")")
	case q.Before > 0:
		b.WriteString(" AND id < " + arg(q.Before))
	}
	if q.Newest() {
		b.WriteString(" ORDER BY id DESC")
	} else {
		b.WriteString(" ORDER BY timestamp, id")
	}
	b.WriteString(" LIMIT " + arg(q.Limit+1))
	rows, err := db.Query(ctx, b.String(), args...)
	if err != nil {
		return nil, false, unavailable("chat lines", err)
	}
	lines, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Line, error) {
		var l Line
		err := r.Scan(&l.ID, &l.At, &l.User, &l.Text, &l.Hidden)
		return l, err
	})
	if err != nil {
		return nil, false, unavailable("chat lines", err)
	}
	more := len(lines) > q.Limit
	if more {
		lines = lines[:q.Limit]
	}
	return lines, more, nil
}

// searchWalk is how many of the newest ids a search walks first.
const searchWalk = 10_000

func matchSQL(param string) string {
	return "to_tsvector('simple', translate(message, '<>', '  ')) @@ websearch_to_tsquery('simple', " + param + ")"
}

const userFallbackSQL = `SELECT max(username), count(*), min(timestamp), max(timestamp)
FROM daz_core_chat_log
WHERE channel = $1 AND lower(username) = lower($2) AND event_type IN ('chatMsg', 'addUser', 'userLeave')`

const userDailySQL = `SELECT day, messages FROM daz_analytics_chat_daily
WHERE channel = $1 AND username_lower = lower($2) AND day >= $3::date
ORDER BY day`

const userQueuedSQL = `SELECT coalesce(message, ''), timestamp FROM daz_core_chat_log
WHERE channel = $1 AND lower(username) = lower($2) AND event_type = 'queue'
ORDER BY timestamp DESC LIMIT 20`

// User returns a user page, or ErrNotFound for a name the channel never saw.
func (s *Store) User(ctx context.Context, channel, user string, moderator bool) (UserInfo, error) {
	var u UserInfo
	var name *string
	var first, last *time.Time
	err := s.pool.QueryRow(ctx, analytics.StatsSQL, channel, user).Scan(&name, &u.Messages, &first, &last)
	if err != nil {
		return u, unavailable("user stats", err)
	}
	if name == nil {
		// Not rolled up yet (the roll-up runs every 30 s): ask the log.
		var n int64
		if err := s.pool.QueryRow(ctx, userFallbackSQL, channel, user).Scan(&name, &n, &first, &last); err != nil {
			return u, unavailable("user stats", err)
		}
		if name == nil {
			return u, ErrNotFound
		}
	}
	u.Name = *name
	if first != nil {
		u.First = first.UTC()
	}
	if last != nil {
		u.Last = last.UTC()
	}
	since := s.now().UTC().AddDate(0, 0, -89).Format(time.DateOnly)
	rows, err := s.pool.Query(ctx, userDailySQL, channel, user, since)
	if err != nil {
		return u, unavailable("user days", err)
	}
	u.Daily, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (DayCount, error) {
		var d DayCount
		var day time.Time
		err := r.Scan(&day, &d.Messages)
		d.Day = day.Format(time.DateOnly)
		return d, err
	})
	if err != nil {
		return u, unavailable("user days", err)
	}
	u.Recent, _, err = s.Messages(ctx, MessageQuery{Channel: channel, User: user, Limit: 20, Moderator: moderator})
	if err != nil {
		return u, err
	}
	rows, err = s.pool.Query(ctx, userQueuedSQL, channel, user)
	if err != nil {
		return u, unavailable("user media", err)
	}
	u.Queued, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (Queued, error) {
		var q Queued
		err := r.Scan(&q.Title, &q.At)
		return q, err
	})
	if err != nil {
		return u, unavailable("user media", err)
	}
	return u, nil
}

// isTimeout tells a statement_timeout apart from an outage.
func isTimeout(err error) bool {
	var pg *pgconn.PgError
	return errors.As(err, &pg) && pg.Code == "57014"
}
