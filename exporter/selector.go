package exporter

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

var labelPattern = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*`)

// parseSelector parses PromQL label matchers, `{job="a", env=~"prod|dev"}` or the same without
// braces, into their canonical text (`job="a"`, `env=~"prod|dev"`), in the order given. Empty
// and "{}" give none.
func parseSelector(s string) ([]string, error) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "{") {
		if !strings.HasSuffix(s, "}") {
			return nil, errors.New("missing the closing }")
		}
		s = strings.TrimSpace(s[1 : len(s)-1])
	} else if strings.HasSuffix(s, "}") {
		return nil, errors.New("missing the opening {")
	}
	var out []string
	for s != "" {
		name := labelPattern.FindString(s)
		if name == "" {
			return nil, fmt.Errorf("at %q: want a label name ([a-zA-Z_][a-zA-Z0-9_]*)", s)
		}
		if name == "__name__" {
			return nil, errors.New("__name__ cannot be matched: the rules name their metrics")
		}
		s = strings.TrimSpace(s[len(name):])
		var op string
		for _, o := range []string{"=~", "!~", "!=", "="} {
			if strings.HasPrefix(s, o) {
				op = o
				break
			}
		}
		if op == "" {
			return nil, fmt.Errorf("label %s: want =, !=, =~ or !~", name)
		}
		s = strings.TrimSpace(s[len(op):])
		lit, rest, err := cutString(s)
		if err != nil {
			return nil, fmt.Errorf("label %s: %w", name, err)
		}
		value, err := strconv.Unquote(lit)
		if err != nil {
			return nil, fmt.Errorf("label %s: bad string %s", name, lit)
		}
		if op == "=~" || op == "!~" {
			if _, err := regexp.Compile("^(?:" + value + ")$"); err != nil {
				return nil, fmt.Errorf("label %s: %w", name, err)
			}
		}
		out = append(out, name+op+strconv.Quote(value))
		s = strings.TrimSpace(rest)
		if s == "" {
			break
		}
		if !strings.HasPrefix(s, ",") {
			return nil, fmt.Errorf("after label %s: want , between matchers", name)
		}
		s = strings.TrimSpace(s[1:])
	}
	return out, nil
}

// cutString splits a leading double-quoted (with backslash escapes) or backquoted string
// literal off s.
func cutString(s string) (lit, rest string, err error) {
	if s == "" || (s[0] != '"' && s[0] != '`') {
		return "", "", errors.New(`want a "double-quoted" or ` + "`backquoted`" + ` value`)
	}
	q := s[0]
	for i := 1; i < len(s); i++ {
		switch {
		case q == '"' && s[i] == '\\':
			i++
		case s[i] == q:
			return s[:i+1], s[i+1:], nil
		}
	}
	return "", "", errors.New("unterminated string")
}
