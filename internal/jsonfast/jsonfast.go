// Package jsonfast writes the few JSON values that hot and startup paths
// build by hand (the access line, the /health document, the record's
// first lines) with encoding/json's exact bytes: plain values directly,
// anything unusual through encoding/json itself. encoding/json's first
// look at a type costs a tenth of a start, and its reflection most of a
// small answer. Each caller's test holds its output to encoding/json's.
package jsonfast

import (
	"encoding/json"
	"math"
	"strconv"
)

// Plain reports whether encoding/json writes s between quotes as it is:
// printable ASCII without quotes, backslashes and (escaped by default)
// <, > and &.
func Plain(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}

// AppendString appends s as a JSON string, HTML-escaped as json.Marshal does.
func AppendString(b []byte, s string) []byte {
	if !Plain(s) {
		return appendMarshal(b, s)
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// PlainFloat reports whether encoding/json writes f in strconv's 'f' form
// (it uses exponents outside this range, and refuses NaN and infinities).
func PlainFloat(f float64) bool {
	abs := math.Abs(f)
	return !math.IsNaN(f) && !math.IsInf(f, 0) && (abs == 0 || abs >= 1e-6 && abs < 1e21)
}

// AppendFloat appends f as json.Marshal does ("null" for what it refuses).
func AppendFloat(b []byte, f float64) []byte {
	if !PlainFloat(f) {
		return appendMarshal(b, f)
	}
	return strconv.AppendFloat(b, f, 'f', -1, 64)
}

func appendMarshal(b []byte, v any) []byte {
	j, err := json.Marshal(v)
	if err != nil {
		return append(b, "null"...)
	}
	return append(b, j...)
}
