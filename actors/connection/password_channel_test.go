package connection_test

import (
	"strings"
	"testing"

	"github.com/daz-bot/daz/actors/connection"
	"github.com/daz-bot/daz/cmd/daz/sandbox"
	"github.com/daz-bot/daz/cmd/daz/sandbox/sandboxtest"
	"github.com/daz-bot/daz/messages"
)

// On a password channel without cytube.channel_password, a moderator gets
// in on the strength of the login (cancelNeedPassword after it), and a
// registered user without rank is stopped with the error that names the
// setting — once the server has had its chance to let the login in.
func TestPasswordChannelLetsModeratorsIn(t *testing.T) {
	t.Parallel()
	sb := sandboxtest.Start(t, sandbox.Options{
		Channels: []string{"pwchan"}, ChannelPasswords: map[string]string{"pwchan": "chan-pw"},
		Accounts: sandbox.DefaultAccounts(),
	})
	cases := []struct {
		name, user string
		chanPW     string
		online     bool
		reason     string
	}{
		{name: "moderator, no channel password", user: "dazbot", online: true},
		{name: "moderator, wrong channel password", user: "dazbot", chanPW: "wrong", online: true},
		{name: "registered user, right channel password", user: "alice", chanPW: "chan-pw", online: true},
		{name: "registered user, no channel password", user: "alice",
			reason: "channel needs a password; set cytube.channel_password"},
		{name: "registered user, wrong channel password", user: "alice", chanPW: "wrong",
			reason: "channel password rejected; check cytube.channel_password"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rig := NewRig(t, RigConfig{Conn: connection.Config{
				Channel: "pwchan", ServerURL: sb.URL(), Username: tc.user, Password: tc.user, ChannelPassword: tc.chanPW,
			}})
			if tc.online {
				st := rig.WaitState(t, messages.StateOnline, 1)
				if st.Username != tc.user {
					t.Fatalf("online as %q", st.Username)
				}
				if n := rig.CountStates(messages.StateStopped); n != 0 {
					t.Fatalf("stopped %d times", n)
				}
				return
			}
			waitPasswordGrace(t, rig)
			st := rig.WaitState(t, messages.StateStopped, 1)
			if !strings.Contains(st.Reason, tc.reason) || !strings.HasPrefix(st.Reason, string(connection.KindNeedPassword)) {
				t.Fatalf("stopped because %q, want %q", st.Reason, tc.reason)
			}
		})
	}
}
