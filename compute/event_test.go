package compute

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestEventLevelsRoundTripThroughJSON(t *testing.T) {
	for _, l := range []Level{Debug, Info, Warn, Error} {
		data, err := json.Marshal(Event{Key: "k", Level: l})
		require.NoError(t, err)
		assert.Contains(t, string(data), `"level":"`+l.String()+`"`)
		var e Event
		require.NoError(t, json.Unmarshal(data, &e))
		assert.Equal(t, l, e.Level)
	}
	var l Level
	assert.Error(t, l.UnmarshalText([]byte("loud")))
}

func TestEmitStampsEventsAndNilSinkDiscards(t *testing.T) {
	var got []Event
	Sink(func(e Event) { got = append(got, e) }).Emit(Warn, "gpu_oom_backoff", map[string]any{"rows": 64})
	require.Len(t, got, 1)
	assert.Equal(t, "gpu_oom_backoff", got[0].Key)
	assert.Equal(t, 64, got[0].Params["rows"])
	assert.False(t, got[0].Time.IsZero())
	var none Sink
	assert.NotPanics(t, func() { none.Emit(Info, "x", nil) })
}
