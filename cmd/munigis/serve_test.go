package main

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// startServe runs `munigis serve` in this process on a free port of the
// loopback (the browser and OGC client tests drive it), and returns its
// base URL and log. It stops when the test ends.
func startServe(t *testing.T) (string, *syncBuffer) {
	t.Helper()
	t.Setenv("MUNIGIS_ADDR", "127.0.0.1:0")
	ready := filepath.Join(t.TempDir(), "ready")
	t.Setenv("MUNIGIS_READY_FILE", ready)
	ctx, cancel := context.WithCancel(context.Background())
	var stdout syncBuffer
	stderr := &syncBuffer{}
	done := make(chan int, 1)
	go func() { done <- Run(ctx, []string{"serve"}, &stdout, stderr) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			t.Error("serve did not stop in 15 s")
		}
	})
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		select {
		case code := <-done:
			t.Fatalf("serve exited with %d before it was ready; stderr:\n%s", code, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not become ready in 30 s; stderr:\n%s", stderr.String())
		}
		if b, err := os.ReadFile(ready); err == nil {
			if _, port, err := net.SplitHostPort(string(b)); err == nil && port != "0" {
				return "http://" + string(b), stderr
			}
		}
	}
}
