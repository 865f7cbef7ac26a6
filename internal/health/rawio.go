package health

import "errors"

// rawReader reads the Prober's connection (see rawconn), no more than the
// probe may still read.
type rawReader struct{ p *Prober }

// errTooLarge: the answer went on past maxAnswer.
var errTooLarge = errors.New("the answer is larger than a health document")

func (r rawReader) Read(b []byte) (int, error) {
	if len(b) == 0 {
		return 0, nil
	}
	if r.p.left <= 0 {
		return 0, errTooLarge
	}
	n, err := r.p.io.Read(b[:min(len(b), r.p.left)])
	r.p.left -= n
	return n, err
}
