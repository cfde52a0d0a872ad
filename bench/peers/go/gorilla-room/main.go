// The seeds' plain-text chat room on Go's gorilla/websocket, for the fan-out benchmark.
// ws://127.0.0.1:<port>/<room>?name=<name>. Each broadcast is a PreparedMessage (framed once,
// written to every member); each member has a writer goroutine with a bounded queue, as in
// gorilla's own chat example, and a member whose queue is full is dropped. The example's queue
// of 256 drops members while a room of 2,000 fills (every join is announced to everyone), so
// the queue here holds a room's worth of announcements.
package main

import (
	"log"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

const queueLength = 4096

type member struct {
	conn  *websocket.Conn
	queue chan *websocket.PreparedMessage
}

type room struct {
	mu      sync.Mutex
	members map[*member]struct{}
}

var (
	roomsMu sync.Mutex
	rooms   = map[string]*room{}
)

func roomNamed(name string) *room {
	roomsMu.Lock()
	defer roomsMu.Unlock()
	r, ok := rooms[name]
	if !ok {
		r = &room{members: map[*member]struct{}{}}
		rooms[name] = r
	}
	return r
}

func (r *room) broadcast(text string) {
	msg, err := websocket.NewPreparedMessage(websocket.TextMessage, []byte(text))
	if err != nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for m := range r.members {
		select {
		case m.queue <- msg:
		default:
			// Too slow to keep up: dropped, as gorilla's chat example does.
			delete(r.members, m)
			close(m.queue)
		}
	}
}

func (r *room) join(m *member) {
	r.mu.Lock()
	r.members[m] = struct{}{}
	r.mu.Unlock()
}

// leave reports whether m was still a member.
func (r *room) leave(m *member) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.members[m]; !ok {
		return false
	}
	delete(r.members, m)
	close(m.queue)
	return true
}

var upgrader = websocket.Upgrader{
	ReadBufferSize:  1024,
	WriteBufferSize: 1024,
	CheckOrigin:     func(*http.Request) bool { return true },
}

func serve(w http.ResponseWriter, req *http.Request) {
	conn, err := upgrader.Upgrade(w, req, nil)
	if err != nil {
		return
	}
	conn.SetReadLimit(8192)
	name := req.URL.Query().Get("name")
	if name == "" {
		name = "guest"
	}
	r := roomNamed(req.URL.Path)
	m := &member{conn: conn, queue: make(chan *websocket.PreparedMessage, queueLength)}
	go write(m)
	r.join(m)
	r.broadcast("Welcome, " + name + " !")
	for {
		kind, data, err := conn.ReadMessage()
		if err != nil {
			break
		}
		if kind != websocket.TextMessage {
			continue
		}
		text := string(data)
		if text == "quit" {
			r.broadcast(name + " Logout")
			r.leave(m)
			return
		}
		r.broadcast(name + ":" + text)
	}
	if r.leave(m) {
		r.broadcast(name + " Logout")
	}
}

func write(m *member) {
	defer m.conn.Close()
	for msg := range m.queue {
		if err := m.conn.WritePreparedMessage(msg); err != nil {
			return
		}
	}
	m.conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(time.Second))
}

func main() {
	port := "3004"
	if len(os.Args) > 1 {
		port = os.Args[1]
	}
	listener, err := net.Listen("tcp", "127.0.0.1:"+port)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("gorilla room on 127.0.0.1:%s", port)
	log.Fatal(http.Serve(listener, http.HandlerFunc(serve)))
}
