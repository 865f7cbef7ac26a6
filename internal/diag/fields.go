package diag

// Fields of lifetime events that the verdicts rely on, and the JSON type
// each must have (see parseEvent).
var (
	numberFields = []string{"pid", "ppid", "start_ticks", "code", "signal"}
	stringFields = []string{"event", "t", "addr", "detail", "name", "restart_of", "step", "strategy", "version", "intent", "reason"}
)

// wrongType names the first of those fields whose type is wrong in ev.
func wrongType(ev map[string]any) string {
	for _, k := range numberFields {
		if v, ok := ev[k]; ok {
			if _, isNum := v.(float64); !isNum {
				return k
			}
		}
	}
	for _, k := range stringFields {
		if v, ok := ev[k]; ok {
			if _, isStr := v.(string); !isStr {
				return k
			}
		}
	}
	return ""
}
