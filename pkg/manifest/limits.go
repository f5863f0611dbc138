package manifest

// Limits bound what one load accepts, so a hostile pull request cannot make
// plan exhaust memory or CPU on a CI runner. A zero field takes its default
// from DefaultLimits.
type Limits struct {
	// MaxFileSize is the largest manifest file, in bytes.
	MaxFileSize int64
	// MaxTotalSize is the largest sum of all manifest files, in bytes.
	MaxTotalSize int64
	// MaxFiles is the most manifest files one load reads.
	MaxFiles int
	// MaxDocuments is the most YAML documents (including empty ones) in all files.
	MaxDocuments int
	// MaxResources is the most resources (backends plus secrets) in all files.
	MaxResources int
	// MaxDepth is the deepest nesting of mappings and sequences in a document.
	MaxDepth int
	// MaxAliasNodes is the most nodes a document may reach through YAML
	// aliases. It is what stops a "billion laughs" document: expansion is
	// counted while walking, and the walk stops at the bound.
	MaxAliasNodes int
}

// DefaultLimits are generous for real installations (up to a few hundred
// thousand secrets: 100,000 with their backends is measured by make bench)
// and small enough that a hostile input is refused in milliseconds.
func DefaultLimits() Limits {
	return Limits{
		MaxFileSize:   8 << 20,
		MaxTotalSize:  64 << 20,
		MaxFiles:      10_000,
		MaxDocuments:  200_000,
		MaxResources:  200_000,
		MaxDepth:      64,
		MaxAliasNodes: 10_000,
	}
}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits()
	if l.MaxFileSize <= 0 {
		l.MaxFileSize = d.MaxFileSize
	}
	if l.MaxTotalSize <= 0 {
		l.MaxTotalSize = d.MaxTotalSize
	}
	if l.MaxFiles <= 0 {
		l.MaxFiles = d.MaxFiles
	}
	if l.MaxDocuments <= 0 {
		l.MaxDocuments = d.MaxDocuments
	}
	if l.MaxResources <= 0 {
		l.MaxResources = d.MaxResources
	}
	if l.MaxDepth <= 0 {
		l.MaxDepth = d.MaxDepth
	}
	if l.MaxAliasNodes <= 0 {
		l.MaxAliasNodes = d.MaxAliasNodes
	}
	return l
}

// MaxValueFileSize is the largest file a fromFile value may read.
const MaxValueFileSize = 1 << 20
