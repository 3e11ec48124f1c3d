package frame

import (
	"encoding/json"

	"github.com/daz-bot/daz/messages"
)

// decodeBody maps an event name to its typed body. known is false for names
// without a type; when err is set the body is meaningless and the caller
// falls back to a RawEvent.
func decodeBody(name string, p json.RawMessage) (body any, known bool, err error) {
	switch name {
	case "chatMsg":
		m, err := object[messages.ChatMsg](p)
		if err == nil {
			m.Text = PlainText(m.Msg)
		}
		return m, true, err
	case "pm":
		m, err := object[messages.Pm](p)
		if err == nil {
			m.Text = PlainText(m.Msg)
		}
		return m, true, err
	case "addUser":
		u, err := object[messages.AddUser](p)
		return u, true, err
	case "userLeave":
		return knownBody(object[messages.UserLeave](p))
	case "userlist":
		users, err := array[messages.User](p)
		return &messages.UserList{Users: users}, true, err
	case "setUserRank":
		return knownBody(object[messages.SetUserRank](p))
	case "rank":
		r, err := value[float64](p)
		return &messages.Rank{Rank: r}, true, err
	case "login":
		return knownBody(object[messages.Login](p))
	case "kick":
		return knownBody(object[messages.Kick](p))
	case "cooldown":
		ms, err := value[int64](p)
		return &messages.Cooldown{Millis: ms}, true, err
	case "noflood":
		return knownBody(object[messages.NoFlood](p))
	case "errorMsg":
		return knownBody(object[messages.ErrorMsg](p))
	case "changeMedia":
		return knownBody(object[messages.ChangeMedia](p))
	case "mediaUpdate":
		return knownBody(object[messages.MediaUpdate](p))
	case "playlist":
		// Decoded on demand (Playlist.Items): nothing reads it on the way in.
		raw, err := rawOf('[', p)
		return &messages.Playlist{Raw: raw}, true, err
	case "queue":
		return knownBody(object[messages.Queue](p))
	case "queueFail":
		return knownBody(object[messages.QueueFail](p))
	case "delete":
		return knownBody(decodeDelete(p))
	case "setCurrent":
		uid, err := value[int64](p)
		return &messages.SetCurrent{UID: uid}, true, err
	case "setPlaylistMeta":
		return knownBody(object[messages.SetPlaylistMeta](p))
	case "setPlaylistLocked":
		locked, err := value[bool](p)
		return &messages.SetPlaylistLocked{Locked: locked}, true, err
	case "channelOpts":
		return knownBody(object[messages.ChannelOpts](p))
	case "setPermissions":
		perms, err := objectMap[float64](p)
		return &messages.SetPermissions{Perms: perms}, true, err
	case "setAFK":
		return knownBody(object[messages.SetAFK](p))
	case "setUserMeta":
		return knownBody(object[messages.SetUserMeta](p))
	case "usercount":
		n, err := value[int64](p)
		return &messages.UserCount{Count: n}, true, err
	case "setMotd":
		return knownBody(decodeMotd(p))
	case "needPassword":
		wrong, err := value[bool](p)
		return &messages.NeedPassword{Wrong: wrong}, true, err
	case "cancelNeedPassword":
		return &messages.CancelNeedPassword{}, true, nil
	case "channelNotRegistered":
		return &messages.ChannelNotRegistered{}, true, nil
	case "clearVoteskipVote":
		return &messages.ClearVoteskipVote{}, true, nil
	case "partitionChange":
		cfg, err := rawOf('{', p)
		return &messages.PartitionChange{Config: cfg}, true, err
	case "emoteList":
		emotes, err := rawOf('[', p)
		return &messages.EmoteList{Emotes: emotes}, true, err
	case "drinkCount":
		n, err := value[int64](p)
		return &messages.DrinkCount{Count: n}, true, err
	case "channelCSSJS":
		return knownBody(object[messages.ChannelCSSJS](p))
	case "listPlaylists":
		lists, err := rawOf('[', p)
		return &messages.ListPlaylists{Playlists: lists}, true, err
	case "banlist":
		bans, err := array[messages.BanEntry](p)
		return &messages.Banlist{Bans: bans}, true, err
	case "banlistRemove":
		return knownBody(object[messages.BanlistRemove](p))
	case "channelRanks":
		ranks, err := array[messages.ChannelRank](p)
		return &messages.ChannelRanks{Ranks: ranks}, true, err
	case "voteskip":
		return knownBody(object[messages.VoteSkip](p))
	}
	return nil, false, nil
}

// knownBody passes a typed decoder's result through as a known event.
func knownBody(body any, err error) (any, bool, error) { return body, true, err }
