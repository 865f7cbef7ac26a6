// Package diag records how every webui process lifetime goes, so that no death
// is silent: first-line, installed, ready and exit markers, caught signals,
// crashes and recovered panics. `webui diagnose` reads the records back.
package diag
