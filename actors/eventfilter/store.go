package eventfilter

import (
	"encoding/json"
	"fmt"
	"time"
	"unique"

	"github.com/daz-bot/daz/messages"
)

// Operator overrides of min_rank and cooldown_ms are told apart from plugin
// defaults by the default_* columns (migration 00011): a value equal to the
// default it was set from follows the plugin, anything else was set by an
// operator and is kept. enabled is never written by the registry.
const upsertCommandsSQL = `INSERT INTO daz_eventfilter_cmds AS c
    (name, plugin, min_rank, cooldown_ms, aliases, pm_allowed, description, usage,
     default_min_rank, default_cooldown_ms, updated_at)
SELECT x.name, x.plugin, x.min_rank, x.cooldown_ms, x.aliases, x.pm_allowed, x.description, x.usage,
       x.min_rank, x.cooldown_ms, now()
FROM jsonb_to_recordset($1::jsonb) AS x(name text, plugin text, min_rank float8, cooldown_ms bigint,
     aliases text[], pm_allowed boolean, description text, usage text)
ON CONFLICT (name) DO UPDATE SET
    plugin = EXCLUDED.plugin,
    aliases = EXCLUDED.aliases,
    pm_allowed = EXCLUDED.pm_allowed,
    description = EXCLUDED.description,
    usage = EXCLUDED.usage,
    min_rank = CASE WHEN c.min_rank IS NOT DISTINCT FROM c.default_min_rank
                    THEN EXCLUDED.min_rank ELSE c.min_rank END,
    cooldown_ms = CASE WHEN c.cooldown_ms IS NOT DISTINCT FROM c.default_cooldown_ms
                       THEN EXCLUDED.cooldown_ms ELSE c.cooldown_ms END,
    default_min_rank = EXCLUDED.default_min_rank,
    default_cooldown_ms = EXCLUDED.default_cooldown_ms,
    updated_at = now()
RETURNING name, min_rank::float8, cooldown_ms::bigint, enabled`

const loadCommandsSQL = `SELECT name, min_rank::float8, cooldown_ms::bigint, enabled FROM daz_eventfilter_cmds`

const loadIgnoredSQL = `SELECT username FROM daz_eventfilter_ignored_users WHERE channel = $1`

const loadUserLimitsSQL = `SELECT username, max_per_minute::bigint FROM daz_eventfilter_user_limits WHERE channel = $1`

// commandRow is one command as upsertCommandsSQL reads it from JSON: the
// whole batch is one bound parameter, so a round is one statement.
type commandRow struct {
	Name        string   `json:"name"`
	Plugin      string   `json:"plugin"`
	MinRank     float64  `json:"min_rank"`
	CooldownMS  int64    `json:"cooldown_ms"`
	Aliases     []string `json:"aliases"`
	PMAllowed   bool     `json:"pm_allowed"`
	Description string   `json:"description"`
	Usage       string   `json:"usage"`
}

func upsertArgs(batch []*command) ([]any, error) {
	rows := make([]commandRow, 0, len(batch))
	for _, c := range batch {
		aliases := c.spec.Aliases
		if aliases == nil {
			aliases = []string{}
		}
		rows = append(rows, commandRow{
			Name: c.spec.Name, Plugin: c.plugin, MinRank: c.spec.MinRank, CooldownMS: c.spec.Cooldown.Milliseconds(),
			Aliases: aliases, PMAllowed: c.spec.PMAllowed, Description: c.spec.Description, Usage: c.spec.Usage,
		})
	}
	b, err := json.Marshal(rows)
	if err != nil {
		return nil, fmt.Errorf("encode %d commands: %w", len(rows), err)
	}
	// Every channel declares the same commands, so at start-up fifty
	// EventFilters queue the same batch at the SQL writer at once: one
	// canonical copy of the text serves them all while they wait.
	return []any{unique.Make(string(b)).Value()}, nil
}

// overrideOf reads a (name, min_rank, cooldown_ms, enabled) row.
func overrideOf(r messages.Row) (string, override) {
	return r.String(0), override{
		minRank:  r.Float(1),
		cooldown: time.Duration(r.Int(2)) * time.Millisecond,
		enabled:  r.Bool(3),
	}
}

func newSQL(id uint64, kind messages.SQLKind, query string, args ...any) *messages.SQLRequest {
	return &messages.SQLRequest{ID: id, Kind: kind, Query: query, Args: args}
}
