// Command livesend sends WebSocket traffic over 127.0.0.1 as fast as it can,
// or at a given rate, for measuring whether "wsdissect live -i lo" keeps up
// (bench/live.sh runs both):
//
//	go run ./bench/livesend -port 18080 -conns 4 -size 1400 -duration 5s -rate 1000
//
// A github.com/gorilla/websocket server listens on 127.0.0.1:PORT and
// discards what it receives; CONNS clients send binary messages of SIZE bytes
// (masked, as clients must) for DURATION, together at most RATE Mbit/s of
// payload (0: no limit). It prints what was sent and the achieved rate.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "livesend:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("livesend", flag.ContinueOnError)
	port := fs.Int("port", 18080, "TCP port of the server on 127.0.0.1")
	conns := fs.Int("conns", 4, "client connections")
	size := fs.Int("size", 1400, "message payload size in bytes")
	duration := fs.Duration("duration", 5*time.Second, "how long to send")
	rate := fs.Float64("rate", 0, "total payload rate in Mbit/s (0: as fast as possible)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *conns < 1 || *size < 1 || *duration <= 0 || *rate < 0 || *port < 1 || *port > 65535 {
		return errors.New("-conns, -size, -duration and -port must be positive, -rate not negative")
	}
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(*port)))
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(discard), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln) //nolint:errcheck // ends with Shutdown below
	defer srv.Shutdown(context.Background())

	url := "ws://" + ln.Addr().String() + "/bench"
	payload := make([]byte, *size)
	for i := range payload {
		payload[i] = byte(i)
	}
	var sent, bytes atomic.Int64
	start := time.Now()
	deadline := start.Add(*duration)
	// Each client paces itself to its share of the rate.
	var perConn time.Duration
	if *rate > 0 {
		perConn = time.Duration(float64(*size*8) / (*rate * 1e6 / float64(*conns)) * float64(time.Second))
	}
	var wg sync.WaitGroup
	errs := make(chan error, *conns)
	for range *conns {
		wg.Go(func() {
			c, _, err := websocket.DefaultDialer.Dial(url, nil)
			if err != nil {
				errs <- fmt.Errorf("dial: %w", err)
				return
			}
			defer c.Close()
			next := time.Now()
			for time.Now().Before(deadline) {
				if perConn > 0 {
					next = next.Add(perConn)
					if d := time.Until(next); d > 0 {
						time.Sleep(d)
					}
				}
				if err := c.WriteMessage(websocket.BinaryMessage, payload); err != nil {
					errs <- fmt.Errorf("write: %w", err)
					return
				}
				sent.Add(1)
				bytes.Add(int64(len(payload)))
			}
			msg := websocket.FormatCloseMessage(websocket.CloseNormalClosure, "done")
			_ = c.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second))
		})
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	secs := time.Since(start).Seconds()
	fmt.Printf("sent %d messages, %d payload bytes in %.2fs: %.0f Mbit/s\n",
		sent.Load(), bytes.Load(), secs, float64(bytes.Load())*8/secs/1e6)
	return nil
}

// discard upgrades the request and reads messages until the client closes.
func discard(w http.ResponseWriter, r *http.Request) {
	up := websocket.Upgrader{ReadBufferSize: 64 << 10}
	c, err := up.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	defer c.Close()
	for {
		if _, _, err := c.NextReader(); err != nil {
			return
		}
	}
}
