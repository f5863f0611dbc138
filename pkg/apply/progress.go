package apply

import (
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"
)

// NewProgress returns a progress bar on a terminal and periodic one-line
// updates otherwise (CI logs), written to w.
func NewProgress(w io.Writer, tty bool) Progress {
	if tty {
		return &barProgress{w: w}
	}
	return &lineProgress{w: w, every: 5 * time.Second}
}

type barProgress struct {
	w   io.Writer
	bar *progressbar.ProgressBar
}

func (p *barProgress) Start(total int) {
	if total == 0 {
		return
	}
	p.bar = progressbar.NewOptions(total,
		progressbar.OptionSetWriter(p.w),
		progressbar.OptionSetDescription("applying"),
		progressbar.OptionShowCount(),
		progressbar.OptionSetPredictTime(true),
		progressbar.OptionClearOnFinish(),
		progressbar.OptionThrottle(100*time.Millisecond),
	)
}

func (p *barProgress) Done(Outcome) {
	if p.bar != nil {
		_ = p.bar.Add(1)
	}
}

func (p *barProgress) Finish() {
	if p.bar != nil {
		_ = p.bar.Finish()
	}
}

// lineProgress prints "applying: 120/1000 done, 0 failed" at most every
// interval, so a CI log shows a long run is alive without a line per secret.
type lineProgress struct {
	w     io.Writer
	every time.Duration

	mu      sync.Mutex
	total   int
	done    int
	failed  int
	last    time.Time
	started time.Time
}

func (p *lineProgress) Start(total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.total, p.started, p.last = total, time.Now(), time.Now()
}

func (p *lineProgress) Done(o Outcome) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.done++
	if o.Status != StatusOK {
		p.failed++
	}
	if time.Since(p.last) >= p.every && p.done < p.total {
		p.last = time.Now()
		fmt.Fprintf(p.w, "applying: %d/%d done, %d failed (%s)\n", p.done, p.total, p.failed, time.Since(p.started).Round(time.Second))
	}
}

func (p *lineProgress) Finish() {}
