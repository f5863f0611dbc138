package main

import (
	"fmt"
	"os"
	"runtime"
	"runtime/metrics"
	"runtime/pprof"
	"sync"
	"time"
)

// memProfiler implements MCPCTL_MEMPROFILE=FILE: it writes a heap profile
// of the run at its peak live heap (what the collector found live, so the
// profile's inuse_space is the memory a run really holds, without the
// collector's headroom), for finding what a large plan or apply keeps.
//
// The live heap is sampled after each collection (one runtime/metrics read
// every 20 ms); on a new high of 10% or more the profiler forces a
// collection (a heap profile lags the last one by up to two cycles) and
// writes the profile. The forced collections make a profiled run slower
// and its peak RSS lower: measure RSS without MCPCTL_MEMPROFILE.
type memProfiler struct {
	path string
	stop chan struct{}
	done sync.WaitGroup

	mu   sync.Mutex
	peak uint64 // live heap of the last written profile
}

func startMemProfile(path string) (*memProfiler, error) {
	// Sample one allocation per 64 KiB on average (the default 512 KiB
	// misses most of the small, numerous objects of a large plan).
	runtime.MemProfileRate = 64 << 10
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	f.Close()
	p := &memProfiler{path: path, stop: make(chan struct{})}
	p.done.Add(1)
	go p.loop()
	return p, nil
}

func (p *memProfiler) loop() {
	defer p.done.Done()
	t := time.NewTicker(20 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
			p.check()
		}
	}
}

var liveHeap = []metrics.Sample{{Name: "/gc/heap/live:bytes"}}

func (p *memProfiler) check() {
	metrics.Read(liveHeap)
	live := liveHeap[0].Value.Uint64()
	p.mu.Lock()
	defer p.mu.Unlock()
	if live < p.peak+p.peak/10 || live == 0 {
		return
	}
	runtime.GC()
	metrics.Read(liveHeap)
	p.peak = max(live, liveHeap[0].Value.Uint64())
	if err := p.write(); err != nil {
		fmt.Fprintf(os.Stderr, "MCPCTL_MEMPROFILE: %v\n", err)
	}
}

func (p *memProfiler) write() error {
	tmp := p.path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	if err := pprof.Lookup("heap").WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(tmp, p.path)
}

// Stop ends sampling and reports the peak live heap on stderr.
func (p *memProfiler) Stop() {
	close(p.stop)
	p.done.Wait()
	p.check()
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(os.Stderr, "MCPCTL_MEMPROFILE: peak live heap %.1f MiB, profile in %s\n", float64(p.peak)/(1<<20), p.path)
}
