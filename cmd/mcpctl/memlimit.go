package main

import (
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
)

// Go's collector lets the heap grow to twice what was live at the last
// collection (GOGC=100) before collecting again, and a collection runs
// concurrently with the allocations that follow, so the peak RSS of a
// large plan is a little over twice its live heap: with ~120 MB live at
// 100,000 secrets, anywhere from 230 to 270 MB from run to run. A soft
// memory limit takes the top off: the collector runs earlier whenever the
// heap would grow past it, which only costs CPU while the live heap is
// close to it.
//
// The limit follows the live heap: softLimitFloor, or softLimitFactor
// times what the last collection found live when that is more (checked
// after every collection), so that a run whose live heap outgrows the
// floor (1,000,000 secrets) is never made to collect continuously — it
// gets headroom of half its live heap, where GOGC=100 gives all of it.
// Setting GOMEMLIMIT (any value) turns this off.
var (
	softLimitFloor  int64 = 200 << 20
	softLimitFactor       = 1.5
)

func startSoftMemoryLimit() {
	if _, set := os.LookupEnv("GOMEMLIMIT"); set {
		return
	}
	debug.SetMemoryLimit(softLimitFloor)
	armSoftLimit(&softLimit{samples: []metrics.Sample{{Name: "/gc/heap/live:bytes"}}})
}

type softLimit struct {
	samples []metrics.Sample
	limit   int64
}

// armSoftLimit makes adjust run after the next collection: the finalizer
// of an unreachable object runs once a collection has found it so, and
// re-arms itself.
func armSoftLimit(s *softLimit) {
	// A pointer field keeps the sentinel out of the tiny allocator, whose
	// objects may never be finalized.
	runtime.SetFinalizer(&struct{ p *int }{}, func(any) {
		s.adjust()
		armSoftLimit(s)
	})
}

func (s *softLimit) adjust() {
	metrics.Read(s.samples)
	live := s.samples[0].Value.Uint64()
	want := int64(math.Max(float64(softLimitFloor), float64(live)*softLimitFactor))
	if want != s.limit {
		s.limit = want
		debug.SetMemoryLimit(want)
	}
}
