// Package name holds leakwatch's one rule for the names of HTTP pools, user gauges and series:
// a lowercase ASCII letter, then lowercase letters, digits and underscores ([Pattern]). Such a
// name is a valid Prometheus metric name component and label value, a CSV column and a zap
// field as it is, so no layer escapes or rewrites it. The pool named "docker" has series such
// as http_docker_idle, which satisfy the same rule.
package name

// Pattern is the rule, as a regular expression.
const Pattern = "[a-z][a-z0-9_]*"

// Valid reports whether s matches [Pattern].
func Valid(s string) bool {
	if s == "" || s[0] < 'a' || s[0] > 'z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}
