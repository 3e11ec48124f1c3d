package connection

import (
	"sync"

	"github.com/gorilla/websocket"
)

// readBufferSize is the socket's read buffer. gorilla reads a frame bigger
// than the buffer straight into the message, so the buffer only batches
// small frames per syscall; an idle daemon holds one per channel.
const readBufferSize = 1024

// NewDialer returns a websocket dialer with gorilla's defaults, the read
// buffer sized as above and a pool of write buffers: every socket dialled
// with it borrows a write buffer only while it writes a frame. The bot
// writes a few small frames a minute per channel, so a 4 KB buffer kept per
// socket was memory held for nothing. The app makes one for all its
// channels (bound to the daemon's source address if it has one); a Config
// without one gets its own.
func NewDialer() *websocket.Dialer {
	d := *websocket.DefaultDialer
	d.ReadBufferSize = readBufferSize
	d.WriteBufferPool = &sync.Pool{}
	return &d
}
