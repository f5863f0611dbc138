package apply

// scheduler decides which actions of a plan may run: an action is ready
// once every action it depends on has finished OK; when an action fails,
// every action depending on it, directly or not, is skipped. It only keeps
// the books; Engine.Execute runs the actions and serialises the calls (it is
// not safe for concurrent use).
type scheduler struct {
	dependents [][]int // dependents[i]: actions that depend on i
	waiting    []int   // waiting[i]: dependencies of i not finished OK yet
	ended      []bool  // finished, failed or skipped
	left       int
}

// skip is an action skipped because cause (a dependency) did not complete.
type skip struct{ action, cause int }

// newScheduler takes, per action, the indexes of the actions it depends on.
func newScheduler(deps [][]int) *scheduler {
	n := len(deps)
	s := &scheduler{dependents: make([][]int, n), waiting: make([]int, n), ended: make([]bool, n), left: n}
	for i, ds := range deps {
		for _, d := range ds {
			s.dependents[d] = append(s.dependents[d], i)
			s.waiting[i]++
		}
	}
	return s
}

// ready lists the actions that can start before any has finished.
func (s *scheduler) ready() []int {
	var out []int
	for i, w := range s.waiting {
		if w == 0 {
			out = append(out, i)
		}
	}
	return out
}

// finish records that action i ended, successfully or not, and returns the
// actions that became ready and those skipped because of it (with the
// dependency that made each one skip, so the message can name it).
func (s *scheduler) finish(i int, ok bool) (ready []int, skipped []skip) {
	if s.ended[i] {
		return nil, nil
	}
	s.ended[i] = true
	s.left--
	if !ok {
		// Breadth first over the dependents not ended yet.
		queue := []int{i}
		for len(queue) > 0 {
			cur := queue[0]
			queue = queue[1:]
			for _, d := range s.dependents[cur] {
				if s.ended[d] {
					continue
				}
				s.ended[d] = true
				s.left--
				skipped = append(skipped, skip{action: d, cause: cur})
				queue = append(queue, d)
			}
		}
		return nil, skipped
	}
	for _, d := range s.dependents[i] {
		s.waiting[d]--
		if s.waiting[d] == 0 && !s.ended[d] {
			ready = append(ready, d)
		}
	}
	return ready, nil
}

// done reports whether every action has ended.
func (s *scheduler) done() bool { return s.left == 0 }
