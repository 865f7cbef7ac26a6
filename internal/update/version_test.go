package update

import "testing"

func TestCompareVersions(t *testing.T) {
	t.Parallel()
	tests := []struct {
		a, b string
		want int
	}{
		{"1.2.3", "1.2.3", 0},
		{"v1.2.3", "1.2.3", 0},
		{"1.2.3", "1.2.4", -1},
		{"1.10.0", "1.9.9", 1},
		{"2.0.0", "1.99.99", 1},
		{"1.2", "1.2.0", -1},
		{"1.2.3+4.gabc1234", "1.2.3", 1},          // commits after the tag
		{"1.2.3+4.gabc1234", "1.2.3+10.gdef", -1}, // fewer commits after
		{"1.2.3+4.gabc1234.dirty", "1.2.3+4.gabc1234", 1},
		{"1.3.0~rc1", "1.3.0", -1}, // a release candidate comes first
		{"1.3.0~rc1", "1.3.0~rc2", -1},
		{"1.3.0~rc1", "1.2.9", 1},
		{"0.0.0~dev+abc1234", "0.0.1", -1},
		{"0.0.0~dev+abc1234", "0.0.0~dev", 1},
		{"1.2.3-1", "1.2.3-2", -1},
		{"1:0.1", "9.9", 1}, // an epoch wins
		{"dev", "0.0.0~dev", -1},
		{"dev", "0.0.1", -1},
		{"0.0.1", "dev", 1},
		{"dev", "dev", 0},
		{"", "0.1", -1},
		{"1.0.0a", "1.0.0", 1},
		{"1.0.0a", "1.0.0+", -1}, // letters sort before other characters
	}
	for _, tt := range tests {
		if got := CompareVersions(tt.a, tt.b); got != tt.want {
			t.Errorf("CompareVersions(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
		if got := CompareVersions(tt.b, tt.a); got != -tt.want {
			t.Errorf("CompareVersions(%q, %q) = %d, want %d", tt.b, tt.a, got, -tt.want)
		}
	}
}
