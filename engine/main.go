// Command lms-ferretdb runs FerretDB 1.24 (embedded package, SQLite handler) as the
// learning server's default database. It is our own tiny main so that:
//   - the version.txt pitfall of `go install .../cmd/ferretdb` does not apply
//     (the embeddable package needs no generated files) and telemetry is off;
//   - it exits when its parent dies: the parent keeps our stdin open, so EOF on
//     stdin (parent exited, crashed or was killed) stops the engine.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	_ "net/http/pprof" // only served with -pprof / LMS_ENGINE_PPROF
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
)

func main() {
	dir := flag.String("dir", "", "directory of the SQLite databases")
	port := flag.Int("port", 0, "TCP port on 127.0.0.1 (0 = pick a free one)")
	logLevel := flag.String("log-level", "warn", "debug, info, warn or error")
	watchStdin := flag.Bool("watch-stdin", true, "stop when stdin reaches EOF (parent gone)")
	// Writers of this process wait for each other in the engine (patch 050), not in SQLite: the
	// busy timeout bounds only a wait for a writer of another process (a tool opening the files).
	busyTimeout := flag.Int("busy-timeout", 10000, "milliseconds a write waits for SQLite's write lock held elsewhere")
	// Go's profiler (CPU, heap, goroutines) for finding where the engine spends its time, e.g.
	// `go tool pprof http://127.0.0.1:4101/debug/pprof/profile?seconds=20`; off unless asked for.
	pprofAddr := flag.String("pprof", os.Getenv("LMS_ENGINE_PPROF"), "serve net/http/pprof on this address (default $LMS_ENGINE_PPROF; empty = off)")
	flag.Parse()

	if *pprofAddr != "" {
		go func() {
			if err := http.ListenAndServe(*pprofAddr, nil); err != nil {
				fmt.Fprintln(os.Stderr, "lms-ferretdb: pprof:", err)
			}
		}()
	}

	if *dir == "" {
		fail("-dir is required")
	}
	if err := os.MkdirAll(*dir, 0o700); err != nil {
		fail(err.Error())
	}

	if *port == 0 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			fail(err.Error())
		}
		*port = l.Addr().(*net.TCPAddr).Port
		l.Close()
	}

	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fail("bad -log-level")
	}
	logger := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))

	addr := fmt.Sprintf("127.0.0.1:%d", *port)
	f, err := ferretdb.New(&ferretdb.Config{
		Listener: ferretdb.ListenerConfig{TCP: addr},
		Logger:   logger,
		Handler:  "sqlite",
		// BEGIN IMMEDIATE: a write transaction takes SQLite's write lock when it begins, waiting
		// for it with the busy timeout, instead of failing with SQLITE_BUSY at once when it
		// first reads and then finds another writer has committed meanwhile.
		// synchronous=NORMAL (with WAL): a commit survives the process being killed, and the WAL
		// is synced at checkpoints rather than on every commit — MongoDB's own default (w: 1
		// without j: journal flushed every 100 ms). 200 updates: 203 fsyncs before, 2 after.
		SQLiteURL: fmt.Sprintf("file:%s/?_txlock=immediate&_pragma=busy_timeout(%d)&_pragma=synchronous(normal)", *dir, *busyTimeout),
	})
	if err != nil {
		fail(err.Error())
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	if *watchStdin {
		go func() {
			_, _ = io.Copy(io.Discard, os.Stdin)
			stop()
		}()
	}

	done := make(chan struct{})
	go func() {
		_ = f.Run(ctx)
		close(done)
	}()

	// Announce readiness only once the port accepts connections.
	for i := 0; i < 200; i++ {
		c, err := net.DialTimeout("tcp", addr, 100*time.Millisecond)
		if err == nil {
			c.Close()
			break
		}
		time.Sleep(25 * time.Millisecond)
	}
	out, _ := json.Marshal(map[string]any{"uri": f.MongoDBURI(), "port": *port, "pid": os.Getpid(), "version": "1.24.2"})
	fmt.Println(string(out))

	<-done
}

func fail(msg string) {
	fmt.Fprintln(os.Stderr, "lms-ferretdb:", msg)
	os.Exit(2)
}
