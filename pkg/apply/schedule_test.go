package apply

import (
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSchedulerRunsInDependencyOrder(t *testing.T) {
	// 0 <- 1 <- 3, 0 <- 2 <- 3 (3 needs both), 4 independent.
	s := newScheduler([][]int{{}, {0}, {0}, {1, 2}, {}})
	if diff := cmp.Diff([]int{0, 4}, s.ready()); diff != "" {
		t.Fatalf("ready at start (-want +got):\n%s", diff)
	}
	step := func(i int, ok bool, want []int) {
		t.Helper()
		ready, skipped := s.finish(i, ok)
		slices.Sort(ready)
		if diff := cmp.Diff(want, ready); diff != "" || len(skipped) != 0 {
			t.Fatalf("finish(%d): ready (-want +got):\n%s skipped %v", i, diff, skipped)
		}
	}
	step(4, true, nil)
	step(0, true, []int{1, 2})
	step(1, true, nil) // 3 still waits for 2
	if s.done() {
		t.Fatal("done with actions left")
	}
	step(2, true, []int{3})
	step(3, true, nil)
	if !s.done() {
		t.Fatal("not done after every action finished")
	}
}

func TestSchedulerSkipsDependentsOfAFailure(t *testing.T) {
	// 0 <- 1 <- 2, 0 <- 3, 4 independent, 5 needs 4 and 1.
	s := newScheduler([][]int{{}, {0}, {1}, {0}, {}, {4, 1}})
	ready, skipped := s.finish(0, false)
	if len(ready) != 0 {
		t.Errorf("a failure made %v ready", ready)
	}
	want := []skip{{action: 1, cause: 0}, {action: 3, cause: 0}, {action: 2, cause: 1}, {action: 5, cause: 1}}
	if diff := cmp.Diff(want, skipped, cmp.AllowUnexported(skip{})); diff != "" {
		t.Errorf("skipped (-want +got):\n%s", diff)
	}
	if s.done() {
		t.Fatal("done while 4 has not run")
	}
	// 5 was skipped: finishing 4 does not make it ready.
	if ready, skipped := s.finish(4, true); len(ready) != 0 || len(skipped) != 0 {
		t.Errorf("finish(4): ready %v skipped %v", ready, skipped)
	}
	if !s.done() {
		t.Error("not done")
	}
	// An action ends once: a second report changes nothing.
	if ready, skipped := s.finish(4, true); ready != nil || skipped != nil || !s.done() {
		t.Errorf("second finish(4): ready %v skipped %v", ready, skipped)
	}
}

func TestSchedulerWithoutActions(t *testing.T) {
	s := newScheduler(nil)
	if !s.done() || len(s.ready()) != 0 {
		t.Errorf("empty scheduler: done %v ready %v", s.done(), s.ready())
	}
}
