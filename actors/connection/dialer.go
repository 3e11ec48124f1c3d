package connection

import (
	"sync"

	"github.com/gorilla/websocket"
)

// readBufferSize is the socket's read buffer. gorilla reads a frame bigger
// than the buffer straight into the message, so the buffer only batches
// small frames per syscall; an idle daemon holds one per channel.
const readBufferSize = 1024

// writeBuffers lends every socket its write buffer only while it writes a
// frame: the bot writes a few small frames a minute per channel, so keeping
// a 4 KB buffer per socket was memory held for nothing.
var writeBuffers = &sync.Pool{}

// NewDialer returns the websocket dialer a connection uses when its Config
// has none: gorilla's defaults with the buffers sized as above. The app
// binds it to the daemon's source address.
func NewDialer() *websocket.Dialer {
	d := *websocket.DefaultDialer
	d.ReadBufferSize = readBufferSize
	d.WriteBufferPool = writeBuffers
	return &d
}
