package plan

import (
	"testing"
	"time"
)

// TestChildTimes checks the margins rendered for short rekey times and
// that usual rekey times keep charon's defaults.
func TestChildTimes(t *testing.T) {
	for _, tc := range []struct {
		rekey, life, rand time.Duration
	}{
		{0, 0, 0},
		{2 * time.Second, 3 * time.Second, time.Second}, // lab.rekey minimum
		{6 * time.Second, 9 * time.Second, time.Second},
		{30 * time.Second, 45 * time.Second, 3 * time.Second},
		{59 * time.Second, 88500 * time.Millisecond, 6 * time.Second},
		{time.Minute, 0, 0},
		{time.Hour, 0, 0},
	} {
		life, rand := ChildTimes(tc.rekey)
		if life != tc.life || rand != tc.rand {
			t.Errorf("ChildTimes(%s) = %s, %s; want %s, %s", tc.rekey, life, rand, tc.life, tc.rand)
		}
		if life != 0 && (life-tc.rekey < time.Second || rand >= tc.rekey) {
			t.Errorf("ChildTimes(%s): margin %s under a second or jitter %s not below the rekey time", tc.rekey, life-tc.rekey, rand)
		}
	}
}
