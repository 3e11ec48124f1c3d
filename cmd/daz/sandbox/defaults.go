package sandbox

import (
	"crypto/md5" //nolint:gosec // CyTube labels channel CSS/JS with an MD5 digest; not used for security.
	"encoding/base64"
	"encoding/json"
)

// Ranks as CyTube uses them.
const (
	rankAnonymous  = -1
	rankGuest      = 0
	rankRegistered = 1
	rankModerator  = 2
	rankAdmin      = 3
)

// defaultPermissions is the permission table a new CyTube 3.86 channel sends
// in setPermissions, byte for byte as recorded. The sandbox enforces the
// entries it has features for (kick, mute, ban, motdedit, playlist*) from
// this same table; polls and emotes are informational.
const defaultPermissions = `{"seeplaylist":-1,"playlistadd":1.5,"playlistnext":1.5,"playlistmove":1.5,` +
	`"playlistdelete":2,"playlistjump":1.5,"playlistaddlist":1.5,"oplaylistadd":-1,"oplaylistnext":1.5,` +
	`"oplaylistmove":1.5,"oplaylistdelete":2,"oplaylistjump":1.5,"oplaylistaddlist":1.5,"playlistaddcustom":3,` +
	`"playlistaddrawfile":2,"playlistaddlive":1.5,"exceedmaxlength":2,"addnontemp":2,"settemp":2,` +
	`"playlistshuffle":2,"playlistclear":2,"pollctl":1.5,"pollvote":-1,"viewhiddenpoll":1.5,"voteskip":-1,` +
	`"viewvoteskip":1.5,"mute":1.5,"kick":1.5,"ban":2,"motdedit":3,"filteredit":3,"filterimport":3,` +
	`"emoteedit":3,"emoteimport":3,"playlistlock":2,"leaderctl":2,"drink":1.5,"chat":0,"chatclear":2,` +
	`"exceedmaxitems":2,"deletefromchannellib":2,"exceedmaxdurationperuser":2}`

// unregisteredPermissions is what an unregistered channel sends instead: the
// playlist is open to everyone and there are no moderation entries.
const unregisteredPermissions = `{"seeplaylist":-1,"playlistadd":-1,"playlistnext":0,"playlistmove":0,` +
	`"playlistdelete":0,"playlistjump":0,"playlistaddlist":0,"oplaylistadd":-1,"oplaylistnext":0,` +
	`"oplaylistmove":0,"oplaylistdelete":0,"oplaylistjump":0,"oplaylistaddlist":0,"playlistaddcustom":0,` +
	`"playlistaddlive":0,"exceedmaxlength":0,"addnontemp":0,"settemp":0,"playlistshuffle":0,` +
	`"playlistclear":0,"pollctl":0,"pollvote":-1,"viewhiddenpoll":1.5,"voteskip":-1,"viewvoteskip":1.5,` +
	`"playlistlock":2,"leaderctl":0,"drink":0,"chat":0,"chatclear":2,"exceedmaxitems":2,"deletefromchannellib":2}`

// antifloodParams are the channel's own chat limits for users below rank 2.
// Cooldown is informational (burst/sustained seconds), as CyTube derives it.
type antifloodParams struct {
	Burst     float64 `json:"burst"`
	Sustained float64 `json:"sustained"`
	Cooldown  float64 `json:"cooldown"`
}

// channelOpts mirrors the channelOpts payload; field order is the wire order.
type channelOpts struct {
	AllowVoteskip              bool            `json:"allow_voteskip"`
	VoteskipRatio              float64         `json:"voteskip_ratio"`
	AFKTimeout                 int             `json:"afk_timeout"`
	PageTitle                  string          `json:"pagetitle"`
	MaxLength                  int             `json:"maxlength"`
	ExternalCSS                string          `json:"externalcss"`
	ExternalJS                 string          `json:"externaljs"`
	ChatAntiflood              bool            `json:"chat_antiflood"`
	ChatAntifloodParams        antifloodParams `json:"chat_antiflood_params"`
	ShowPublic                 bool            `json:"show_public"`
	EnableLinkRegex            bool            `json:"enable_link_regex"`
	Password                   bool            `json:"password"`
	AllowDupes                 bool            `json:"allow_dupes"`
	TorBanned                  bool            `json:"torbanned"`
	BlockAnonymousUsers        bool            `json:"block_anonymous_users"`
	AllowASCIIControl          bool            `json:"allow_ascii_control"`
	PlaylistMaxPerUser         int             `json:"playlist_max_per_user"`
	NewUserChatDelay           int             `json:"new_user_chat_delay"`
	NewUserChatLinkDelay       int             `json:"new_user_chat_link_delay"`
	PlaylistMaxDurationPerUser int             `json:"playlist_max_duration_per_user"`
}

func defaultChannelOpts(name string) channelOpts {
	return channelOpts{
		AllowVoteskip:       true,
		VoteskipRatio:       0.5,
		AFKTimeout:          600,
		PageTitle:           name,
		ChatAntifloodParams: antifloodParams{Burst: 4, Sustained: 1, Cooldown: 4},
		EnableLinkRegex:     true,
	}
}

type channelCSSJS struct {
	CSS     string `json:"css"`
	CSSHash string `json:"cssHash"`
	JS      string `json:"js"`
	JSHash  string `json:"jsHash"`
}

func emptyCSSJS() channelCSSJS {
	sum := md5.Sum(nil) //nolint:gosec // see import comment
	hash := base64.StdEncoding.EncodeToString(sum[:])
	return channelCSSJS{CSSHash: hash, JSHash: hash}
}

type playlistMeta struct {
	Count   int    `json:"count"`
	RawTime int    `json:"rawTime"`
	Time    string `json:"time"`
}

// permissions is a channel's permission table: the minimum rank per action,
// and the JSON sent in setPermissions.
type permissions struct {
	raw json.RawMessage
	min map[string]float64
}

// parsePermissions reads one of the tables above; an action missing from it
// falls back to the registered default.
func parsePermissions(raw string) permissions {
	p := permissions{raw: json.RawMessage(raw)}
	if err := json.Unmarshal(p.raw, &p.min); err != nil {
		panic("sandbox: permission table: " + err.Error()) // a constant of this file
	}
	return p
}

func (p permissions) minRank(action string) float64 {
	if r, ok := p.min[action]; ok {
		return r
	}
	var def map[string]float64
	_ = json.Unmarshal([]byte(defaultPermissions), &def)
	if r, ok := def[action]; ok {
		return r
	}
	return rankAdmin
}
