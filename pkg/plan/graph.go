package plan

import (
	"cmp"
	"container/heap"
	"slices"
	"strings"
)

// link fills every action's Deps:
//   - an action using a backend's driver runs after that backend's create or
//     update, or — when the backend itself does not change — after the
//     actions of the secrets it takes credentials from;
//   - a backend's create or update runs after its credential secrets';
//   - a backend's delete runs after every action still using it, and the
//     delete of its credential secret after it;
//   - the backend becoming default runs after the one giving the flag up
//     (one default at a time);
//   - a secret's main action runs after the cleanups of its own leftovers.
func (c *computer) link() {
	deps := make(map[*Action]map[string]bool, len(c.actions))
	dep := func(a, on *Action) {
		if on == nil || on == a {
			return
		}
		if deps[a] == nil {
			deps[a] = map[string]bool{}
		}
		deps[a][on.ID] = true
	}
	tokenActions := func(b string) []*Action {
		var out []*Action
		for _, ref := range c.tokens[b] {
			if t := c.secretAction[ref.Secret]; t != nil && t.Action != Delete {
				out = append(out, t)
			}
		}
		return out
	}
	useBackend := func(a *Action, b string) {
		ba := c.backendAction[b]
		if ba != nil && ba.Action != Delete {
			dep(a, ba)
			return
		}
		if ba != nil {
			dep(ba, a)
		}
		for _, t := range tokenActions(b) {
			dep(a, t)
		}
	}

	var giveUpDefault []*Action
	for _, a := range c.actions {
		if a.Kind == KindSecretBackend && a.Before != nil && a.Before.Default && (a.After == nil || !a.After.Default) {
			giveUpDefault = append(giveUpDefault, a)
		}
	}

	for _, a := range c.actions {
		switch a.Kind {
		case KindSecretBackend:
			switch a.Action {
			case Create, Update:
				for _, t := range tokenActions(a.Name) {
					dep(a, t)
				}
				if a.After.Default && (a.Before == nil || !a.Before.Default) {
					for _, g := range giveUpDefault {
						dep(a, g)
					}
				}
			case Delete:
				for _, ref := range c.tokens[a.Name] {
					if t := c.secretAction[ref.Secret]; t != nil && t.Action == Delete {
						dep(t, a)
					}
				}
			}
		case KindSecret:
			switch a.Action {
			case Create, Write, Repair:
				useBackend(a, a.After.Backend)
			case Migrate:
				useBackend(a, a.Migration.From)
				useBackend(a, a.Migration.To)
			case Delete:
				useBackend(a, a.Before.Backend)
			case Cleanup:
				useBackend(a, a.Cleanup.Backend)
			}
			if a.Action != Cleanup {
				for _, cl := range c.cleanups[a.Name] {
					dep(a, cl)
				}
			}
		}
	}
	for a, set := range deps {
		a.Deps = sortedKeys(set)
	}
}

// rank orders independent actions for reading: backends being created or
// changed, then secrets, then backends being deleted.
func rank(a *Action) int {
	switch {
	case a.Kind == KindSecretBackend && a.Action == Delete:
		return 2
	case a.Kind == KindSecretBackend:
		return 0
	}
	return 1
}

func less(a, b *Action) int {
	return cmp.Or(
		cmp.Compare(rank(a), rank(b)),
		strings.Compare(a.Name, b.Name),
		strings.Compare(a.ID, b.ID),
	)
}

type actionHeap []*Action

func (h actionHeap) Len() int           { return len(h) }
func (h actionHeap) Less(i, j int) bool { return less(h[i], h[j]) < 0 }
func (h actionHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *actionHeap) Push(x any)        { *h = append(*h, x.(*Action)) }
func (h *actionHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// ordered lists the actions in a stable topological order: among the
// actions whose dependencies are done, the first by rank, name and id. A
// cycle is a plan error naming it; its actions are then listed last.
func (c *computer) ordered() []*Action {
	// Sized by what they hold (actions with dependencies), not by the
	// number of actions: most of a large plan's actions have none.
	indeg := map[string]int{}
	dependents := map[string][]*Action{}
	for _, a := range c.actions {
		for _, d := range a.Deps {
			if _, ok := c.byID[d]; ok {
				indeg[a.ID]++
				dependents[d] = append(dependents[d], a)
			}
		}
	}
	h := make(actionHeap, 0, len(c.actions))
	for _, a := range c.actions {
		if indeg[a.ID] == 0 {
			h = append(h, a)
		}
	}
	heap.Init(&h)
	out := make([]*Action, 0, len(c.actions))
	for h.Len() > 0 {
		a := heap.Pop(&h).(*Action)
		out = append(out, a)
		for _, d := range dependents[a.ID] {
			if indeg[d.ID]--; indeg[d.ID] == 0 {
				heap.Push(&h, d)
			}
		}
	}
	if len(out) == len(c.actions) {
		return out
	}
	var rest []*Action
	for _, a := range c.actions {
		if indeg[a.ID] > 0 {
			rest = append(rest, a)
		}
	}
	slices.SortFunc(rest, less)
	if cyc := c.findCycle(rest, indeg); len(cyc) > 0 && !c.resourceCycle {
		c.problems.add("dependency cycle between actions: " + strings.Join(cyc, " -> "))
	}
	return append(out, rest...)
}

// findCycle returns one cycle among the actions Kahn's algorithm could not
// order, as resource addresses closing on the first.
func (c *computer) findCycle(rest []*Action, indeg map[string]int) []string {
	color := map[string]int{}
	var path []*Action
	var found []*Action
	var visit func(a *Action) bool
	visit = func(a *Action) bool {
		color[a.ID] = 1
		path = append(path, a)
		for _, d := range a.Deps {
			on, ok := c.byID[d]
			if !ok || indeg[d] == 0 {
				continue
			}
			switch color[d] {
			case 0:
				if visit(on) {
					return true
				}
			case 1:
				i := slices.Index(path, on)
				found = slices.Clone(path[i:])
				return true
			}
		}
		path = path[:len(path)-1]
		color[a.ID] = 2
		return false
	}
	for _, a := range rest {
		if color[a.ID] == 0 && visit(a) {
			break
		}
	}
	if len(found) == 0 {
		return nil
	}
	// Deps point backwards (a needs d); name the cycle in execution order.
	slices.Reverse(found)
	names := make([]string, 0, len(found)+1)
	for _, a := range found {
		names = append(names, a.ID)
	}
	return append(names, found[0].ID)
}
