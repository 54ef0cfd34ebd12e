package name

import (
	"regexp"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestValid(t *testing.T) {
	re := regexp.MustCompile("^" + Pattern + "$")
	for _, s := range []string{"", "a", "docker", "docker_api", "http_docker_idle", "p2", "_x", "2p", "Docker", "docker-api", "a b", "é", "a.b"} {
		if got, want := Valid(s), re.MatchString(s); got != want {
			t.Errorf("Valid(%q) = %v, want %v (the Pattern)", s, got, want)
		}
	}
}

func FuzzValid(f *testing.F) {
	re := regexp.MustCompile("^" + Pattern + "$")
	f.Add("docker")
	f.Add("docker-api")
	f.Fuzz(func(t *testing.T, s string) {
		if Valid(s) != re.MatchString(s) {
			t.Fatalf("Valid(%q) = %v disagrees with Pattern", s, Valid(s))
		}
	})
}
