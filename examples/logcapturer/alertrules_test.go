package main

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAlertRulesFlag: -alert-rules with the default -alert-selector prints the exporter's
// checked-in seed rules (scoped to job log_capturer); -alert-selector changes the scope, and a
// bad one is an error naming the field.
func TestAlertRulesFlag(t *testing.T) {
	o, err := parseOptions([]string{"-alert-rules"}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	var got bytes.Buffer
	if err := printAlertRules(&got, o.alertSelector); err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(filepath.Join("..", "..", "exporter", "testdata", "rules.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Bytes(), want) {
		t.Errorf("-alert-rules differs from exporter/testdata/rules.yml:\n%s", got.Bytes())
	}

	o, err = parseOptions([]string{"-alert-rules", "-alert-selector", `{job="capture", env="prod"}`}, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	got.Reset()
	if err := printAlertRules(&got, o.alertSelector); err != nil {
		t.Fatal(err)
	}
	if w := `process_open_fds{job=\"capture\", env=\"prod\"}[10m]`; !strings.Contains(got.String(), w) {
		t.Errorf("-alert-selector: output lacks %s:\n%s", w, got.Bytes())
	}
	if err := printAlertRules(io.Discard, "job"); err == nil || !strings.Contains(err.Error(), "Selector") {
		t.Errorf("bad selector: error %v, want one naming Selector", err)
	}
}
