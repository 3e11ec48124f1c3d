package sandbox

import (
	"strings"
	"testing"
)

// A password channel behaves as recorded in channel_password.jsonl, and a
// logged-in moderator is let in without the password (cancelNeedPassword,
// then the burst).
func TestPasswordChannel(t *testing.T) {
	t.Parallel()
	s := startServer(t, Options{Channels: []string{"pwchan"}, ChannelPasswords: map[string]string{"pwchan": "chan-pw"}})
	cases := []struct {
		name string
		run  func(t *testing.T, c *testClient)
	}{
		{"no password, then a wrong one, then the right one", func(t *testing.T, c *testClient) {
			c.emit("joinChannel", map[string]string{"name": "pwchan"})
			if got := string(c.takeEvent("needPassword")); got != "false" {
				t.Fatalf("needPassword %s, want false", got)
			}
			c.emit("channelPassword", "nope")
			if got := string(c.takeEvent("needPassword")); got != "true" {
				t.Fatalf("needPassword %s after a wrong password, want true", got)
			}
			c.emit("channelPassword", "chan-pw")
			c.take("cancelNeedPassword", func(f string) bool { return f == `42["cancelNeedPassword"]` })
			c.takeEvent("userlist")
		}},
		{"wrong password in joinChannel", func(t *testing.T, c *testClient) {
			c.emit("joinChannel", map[string]string{"name": "pwchan", "pw": "nope"})
			if got := string(c.takeEvent("needPassword")); got != "true" {
				t.Fatalf("needPassword %s, want true", got)
			}
		}},
		{"right password in joinChannel", func(t *testing.T, c *testClient) {
			c.emit("joinChannel", map[string]string{"name": "pwchan", "pw": "chan-pw"})
			c.takeEvent("userlist")
		}},
		{"rank 1 login does not pass", func(t *testing.T, c *testClient) {
			c.emit("joinChannel", map[string]string{"name": "pwchan"})
			c.takeEvent("needPassword")
			c.login("alice", "alice")
			for _, f := range c.frames() {
				if strings.Contains(f, "cancelNeedPassword") || eventName(f) == "userlist" {
					t.Fatalf("a rank 1 user got in: %s", f)
				}
			}
		}},
		{"moderator login passes", func(t *testing.T, c *testClient) {
			c.emit("joinChannel", map[string]string{"name": "pwchan"})
			c.takeEvent("needPassword")
			c.login("dazbot", "dazbot")
			c.take("cancelNeedPassword", func(f string) bool { return f == `42["cancelNeedPassword"]` })
			c.takeEvent("rank")
			c.takeEvent("userlist")
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := dial(t, s)
			defer c.close()
			c.handshake()
			tc.run(t, c)
		})
	}
}
