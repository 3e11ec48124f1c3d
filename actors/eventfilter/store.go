package eventfilter

import (
	"time"

	"github.com/daz-bot/daz/messages"
)

// Operator overrides of min_rank and cooldown_ms are told apart from plugin
// defaults by the default_* columns (migration 00011): a value equal to the
// default it was set from follows the plugin, anything else was set by an
// operator and is kept. enabled is never written by the registry.
const upsertCommandSQL = `INSERT INTO daz_eventfilter_cmds AS c
    (name, plugin, min_rank, cooldown_ms, aliases, pm_allowed, description, usage,
     default_min_rank, default_cooldown_ms, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $3, $4, now())
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

func upsertArgs(c *command) []any {
	aliases := c.spec.Aliases
	if aliases == nil {
		aliases = []string{}
	}
	return []any{c.spec.Name, c.plugin, c.spec.MinRank, c.spec.Cooldown.Milliseconds(), aliases,
		c.spec.PMAllowed, c.spec.Description, c.spec.Usage}
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
