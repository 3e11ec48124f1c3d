package channelreg

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Where a row came from.
const (
	SourceConfig = "config" // seeded from a daemon's config file
	SourceCLI    = "cli"    // added by `daz channels add`
)

// Channel is one row of daz_channels. The refs are references (see
// ValidateRef), never passwords.
type Channel struct {
	Name               string // lower case
	ServerURL          string
	Username           string // empty: anonymous
	PasswordRef        string // empty: none (guest login with a username)
	ChannelPasswordRef string // empty: the channel has no password
	Enabled            bool
	Source             string // SourceConfig or SourceCLI
}

var (
	// ErrExists is returned by Add for a name already in the table.
	ErrExists = errors.New("channel already registered")
	// ErrNotFound is returned for a name not in the table.
	ErrNotFound = errors.New("no such channel")
)

var channelName = regexp.MustCompile(`^[A-Za-z0-9_-]{1,30}$`)

// ValidName reports whether name is a CyTube channel name: 1-30 of a-z,
// A-Z, 0-9, - and _. The registry stores it lower-cased.
func ValidName(name string) bool { return channelName.MatchString(name) }

// ConfigChannel is the row a channel of the config file seeds: its
// passwords, when it has them, stay in the configuration.
func ConfigChannel(name, serverURL, username string, hasPassword, hasChannelPassword bool) Channel {
	c := Channel{Name: strings.ToLower(name), ServerURL: serverURL, Username: username, Enabled: true, Source: SourceConfig}
	if hasPassword {
		c.PasswordRef = RefConfig
	}
	if hasChannelPassword {
		c.ChannelPasswordRef = RefConfig
	}
	return c
}

// Store reads and changes daz_channels.
type Store struct {
	pool *pgxpool.Pool
}

// NewStore returns a Store on pool.
func NewStore(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

func (c Channel) check() (Channel, error) {
	if !ValidName(c.Name) {
		return c, fmt.Errorf("%q is not a valid CyTube channel name (1-30 of a-z, A-Z, 0-9, - and _)", c.Name)
	}
	c.Name = strings.ToLower(c.Name)
	if c.ServerURL == "" {
		return c, fmt.Errorf("channel %s: a server URL is required", c.Name)
	}
	if c.Source == "" {
		c.Source = SourceCLI
	}
	if c.Source != SourceCLI && c.Source != SourceConfig {
		return c, fmt.Errorf("channel %s: source %q is not %s or %s", c.Name, c.Source, SourceCLI, SourceConfig)
	}
	if err := ValidateRef(c.PasswordRef); err != nil {
		return c, fmt.Errorf("channel %s: password: %w", c.Name, err)
	}
	if err := ValidateRef(c.ChannelPasswordRef); err != nil {
		return c, fmt.Errorf("channel %s: channel password: %w", c.Name, err)
	}
	return c, nil
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

const columns = `name, server_url, COALESCE(username, ''), COALESCE(password_ref, ''), COALESCE(channel_password_ref, ''), enabled, source`

func scanChannel(row pgx.CollectableRow) (Channel, error) {
	var c Channel
	err := row.Scan(&c.Name, &c.ServerURL, &c.Username, &c.PasswordRef, &c.ChannelPasswordRef, &c.Enabled, &c.Source)
	return c, err
}

// List returns every channel, enabled or not, by name.
func (s *Store) List(ctx context.Context) ([]Channel, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+columns+` FROM daz_channels ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list channels: %w", err)
	}
	list, err := pgx.CollectRows(rows, scanChannel)
	if err != nil {
		return nil, fmt.Errorf("list channels: %w", err)
	}
	return list, nil
}

// Add registers c (Source defaults to SourceCLI). A name already present
// gives ErrExists, whatever its case.
func (s *Store) Add(ctx context.Context, c Channel) error {
	c, err := c.check()
	if err != nil {
		return err
	}
	tag, err := s.pool.Exec(ctx, `
		INSERT INTO daz_channels (name, server_url, username, password_ref, channel_password_ref, enabled, source)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (name) DO NOTHING`,
		c.Name, c.ServerURL, nullable(c.Username), nullable(c.PasswordRef), nullable(c.ChannelPasswordRef), c.Enabled, c.Source)
	if err != nil {
		return fmt.Errorf("add channel %s: %w", c.Name, describe(err))
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("add channel %s: %w", c.Name, ErrExists)
	}
	return nil
}

// Remove deletes a channel and returns the row it was, so a caller can tell
// the operator that a config channel comes back at the next seed.
func (s *Store) Remove(ctx context.Context, name string) (Channel, error) {
	name = strings.ToLower(name)
	rows, err := s.pool.Query(ctx, `DELETE FROM daz_channels WHERE name = $1 RETURNING `+columns, name)
	if err != nil {
		return Channel{}, fmt.Errorf("remove channel %s: %w", name, err)
	}
	c, err := pgx.CollectExactlyOneRow(rows, scanChannel)
	if errors.Is(err, pgx.ErrNoRows) {
		return Channel{}, fmt.Errorf("remove channel %s: %w", name, ErrNotFound)
	}
	if err != nil {
		return Channel{}, fmt.Errorf("remove channel %s: %w", name, err)
	}
	return c, nil
}

// SetEnabled turns a channel on or off and reports whether that changed
// anything; an unchanged row is not written, so daemons are not woken for
// nothing.
func (s *Store) SetEnabled(ctx context.Context, name string, enabled bool) (changed bool, err error) {
	name = strings.ToLower(name)
	tag, err := s.pool.Exec(ctx,
		`UPDATE daz_channels SET enabled = $2, updated_at = now() WHERE name = $1 AND enabled <> $2`, name, enabled)
	if err != nil {
		return false, fmt.Errorf("set channel %s enabled=%t: %w", name, enabled, err)
	}
	if tag.RowsAffected() == 1 {
		return true, nil
	}
	var exists bool
	if err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM daz_channels WHERE name = $1)`, name).Scan(&exists); err != nil {
		return false, fmt.Errorf("set channel %s enabled=%t: %w", name, enabled, err)
	}
	if !exists {
		return false, fmt.Errorf("set channel %s enabled=%t: %w", name, enabled, ErrNotFound)
	}
	return false, nil
}

// Seed writes the config file's channels (see the package comment): absent
// names are inserted, rows the config seeded before take its server and
// account again, rows added by the CLI and every enabled flag are left
// alone. Rows already as the config says are not written, so a restart
// wakes no daemon. All or nothing.
func (s *Store) Seed(ctx context.Context, channels []Channel) error {
	checked := make([]Channel, 0, len(channels))
	for _, c := range channels {
		c.Source = SourceConfig
		c.Enabled = true
		c, err := c.check()
		if err != nil {
			return fmt.Errorf("seed channels: %w", err)
		}
		checked = append(checked, c)
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		for _, c := range checked {
			_, err := tx.Exec(ctx, `
				INSERT INTO daz_channels AS t (name, server_url, username, password_ref, channel_password_ref, enabled, source)
				VALUES ($1, $2, $3, $4, $5, true, 'config')
				ON CONFLICT (name) DO UPDATE SET
					server_url = EXCLUDED.server_url, username = EXCLUDED.username,
					password_ref = EXCLUDED.password_ref, channel_password_ref = EXCLUDED.channel_password_ref,
					updated_at = now()
				WHERE t.source = 'config'
				  AND (t.server_url, t.username, t.password_ref, t.channel_password_ref) IS DISTINCT FROM
				      (EXCLUDED.server_url, EXCLUDED.username, EXCLUDED.password_ref, EXCLUDED.channel_password_ref)`,
				c.Name, c.ServerURL, nullable(c.Username), nullable(c.PasswordRef), nullable(c.ChannelPasswordRef))
			if err != nil {
				return fmt.Errorf("seed channel %s: %w", c.Name, describe(err))
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("seed channels: %w", err)
	}
	return nil
}

// describe turns a CHECK violation into words: the table's checks are the
// last guard against a bad name, URL or a password where a reference goes.
func describe(err error) error {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23514" {
		return fmt.Errorf("rejected by the table's check %s: %w", pgErr.ConstraintName, err)
	}
	return err
}
