package main

import (
	"os"
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

// TestSoftMemoryLimitFollowsLiveHeap: the limit starts at the floor and,
// once the live heap times the factor exceeds it, follows the live heap
// after each collection.
func TestSoftMemoryLimitFollowsLiveHeap(t *testing.T) {
	t.Setenv("GOMEMLIMIT", "") // set (to anything): left alone; restored after the test
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(-1))
	floor := softLimitFloor
	defer func() { softLimitFloor = floor }()
	softLimitFloor = 4 << 20

	debug.SetMemoryLimit(1 << 40)
	startSoftMemoryLimit()
	if got := debug.SetMemoryLimit(-1); got != 1<<40 {
		t.Fatalf("with GOMEMLIMIT set the limit became %d", got)
	}

	if err := os.Unsetenv("GOMEMLIMIT"); err != nil {
		t.Fatal(err)
	}
	startSoftMemoryLimit()
	if got := debug.SetMemoryLimit(-1); got != softLimitFloor {
		t.Fatalf("limit %d, want the floor %d", got, softLimitFloor)
	}
	keep := make([]byte, 64<<20)
	for i := range keep {
		keep[i] = byte(i)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		runtime.GC()
		time.Sleep(10 * time.Millisecond) // finalizers run on their own goroutine
		got := debug.SetMemoryLimit(-1)
		if got >= int64(float64(64<<20)*softLimitFactor) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("limit %d with 64 MiB live; want at least %.0f", got, float64(64<<20)*softLimitFactor)
		}
	}
	runtime.KeepAlive(keep)
}
