package jsonfast

import (
	"encoding/json"
	"math"
	"testing"
)

func marshal(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return "null"
	}
	return string(b)
}

func TestAppend(t *testing.T) {
	for _, s := range []string{"", "GET", "/assets/app.css", "127.0.0.1:8787", "[::1]:0", `a"b`, `a\b`, "<script>", "a&b", "tab\t", "é", "\u2028", "\xff", "\x7f"} {
		if got, want := string(AppendString([]byte("x"), s)), "x"+marshal(s); got != want {
			t.Errorf("AppendString(%q) = %s, want %s", s, got, want)
		}
	}
	for _, f := range []float64{0, math.Copysign(0, -1), 1, 0.5, 12.345, 1e-6, 9.99e-7, 1e20, 1e21, -1e21, math.NaN(), math.Inf(1), math.Inf(-1), math.MaxFloat64, math.SmallestNonzeroFloat64} {
		if got, want := string(AppendFloat(nil, f)), marshal(f); got != want {
			t.Errorf("AppendFloat(%v) = %s, want %s", f, got, want)
		}
	}
}

func FuzzAppend(f *testing.F) {
	f.Add("GET /x", 1.5)
	f.Add("<\u2028>", 1e-7)
	f.Fuzz(func(t *testing.T, s string, x float64) {
		if got, want := string(AppendString(nil, s)), marshal(s); got != want {
			t.Fatalf("AppendString(%q) = %s, want %s", s, got, want)
		}
		if got, want := string(AppendFloat(nil, x)), marshal(x); got != want {
			t.Fatalf("AppendFloat(%v) = %s, want %s", x, got, want)
		}
	})
}
