package compute

import (
	"fmt"
	"time"
)

// Level is the importance of an Event.
type Level int

const (
	Debug Level = iota
	Info
	Warn
	Error
)

// String returns the lower-case name used in logs and reports.
func (l Level) String() string {
	switch l {
	case Debug:
		return "debug"
	case Info:
		return "info"
	case Warn:
		return "warn"
	default:
		return "error"
	}
}

// MarshalText writes the level by name in JSON reports.
func (l Level) MarshalText() ([]byte, error) { return []byte(l.String()), nil }

// UnmarshalText reads a level written by MarshalText.
func (l *Level) UnmarshalText(b []byte) error {
	for _, v := range []Level{Debug, Info, Warn, Error} {
		if v.String() == string(b) {
			*l = v
			return nil
		}
	}
	return fmt.Errorf("compute: unknown event level %q", b)
}

// Event is one decision or milestone of a run.
type Event struct {
	Key    string         `json:"key"`    // locale, log and report key, e.g. "gpu_chunking_rows"
	Level  Level          `json:"level"`  // how loudly to show it
	Params map[string]any `json:"params"` // named placeholders of the message, e.g. {"rows": 256}
	Time   time.Time      `json:"time"`   // when it happened
}

// Sink receives events. It may be called from several goroutines; a nil Sink discards.
type Sink func(Event)

// Emit sends an event stamped with the current time; it is a no-op on a nil Sink.
func (s Sink) Emit(level Level, key string, params map[string]any) {
	if s == nil {
		return
	}
	s(Event{Key: key, Level: level, Params: params, Time: time.Now()})
}
