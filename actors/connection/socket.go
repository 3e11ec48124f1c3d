package connection

import (
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// closeGrace bounds the polite close frame on the way out.
const closeGrace = time.Second

// socket serializes writes to one websocket: the actor (joinChannel, chat)
// and the reader (pongs) both write, and gorilla allows one writer at a time.
type socket struct {
	conn         *websocket.Conn
	writeTimeout time.Duration

	mu sync.Mutex
}

func newSocket(conn *websocket.Conn, writeTimeout time.Duration) *socket {
	conn.SetReadLimit(maxFrameBytes)
	return &socket{conn: conn, writeTimeout: writeTimeout}
}

// write sends one text frame. The deadline is wall-clock time on purpose:
// it guards the kernel socket, not a protocol timer.
func (s *socket) write(frame []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.conn.SetWriteDeadline(time.Now().Add(s.writeTimeout)); err != nil {
		return err
	}
	return s.conn.WriteMessage(websocket.TextMessage, frame)
}

// close sends a normal close frame when it can and closes the connection,
// which also ends a blocked read in the reader goroutine. Safe to repeat.
func (s *socket) close() {
	// WriteControl may run concurrently with write; its error is moot
	// because the connection is closed right after.
	_ = s.conn.WriteControl(websocket.CloseMessage,
		websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(closeGrace))
	_ = s.conn.Close()
}
