package main

import (
	"encoding/json"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func get(t *testing.T, s *server, path string) (int, map[string]any) {
	t.Helper()
	rec := httptest.NewRecorder()
	s.routes().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
	var body map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
		t.Fatalf("GET %s: body is not JSON: %q", path, rec.Body.String())
	}
	return rec.Code, body
}

func TestHealthz(t *testing.T) {
	code, body := get(t, &server{}, "/healthz")
	if code != http.StatusOK || body["status"] != "ok" {
		t.Fatalf("GET /healthz = %d %v", code, body)
	}
}

func TestTimeUTC(t *testing.T) {
	code, body := get(t, &server{timezone: "UTC"}, "/api/time")
	if code != http.StatusOK || body["utc_offset"] != 0.0 {
		t.Fatalf("GET /api/time = %d %v", code, body)
	}
}

func TestTimeUnknownZone(t *testing.T) {
	code, body := get(t, &server{timezone: "Nowhere/Atlantis"}, "/api/time")
	if code != http.StatusInternalServerError || !strings.Contains(body["error"].(string), "Nowhere/Atlantis") {
		t.Fatalf("GET /api/time = %d %v", code, body)
	}
}

func TestFetchTrustedUpstream(t *testing.T) {
	upstream := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	}))
	defer upstream.Close()
	// upstream.Client() trusts the test server's certificate, as a CA bundle would.
	code, body := get(t, &server{client: upstream.Client(), upstream: upstream.URL}, "/api/fetch")
	if code != http.StatusOK || body["status"] != 200.0 {
		t.Fatalf("GET /api/fetch = %d %v", code, body)
	}
}

func TestFetchUntrustedUpstream(t *testing.T) {
	upstream := httptest.NewUnstartedServer(http.NotFoundHandler())
	upstream.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is expected
	upstream.StartTLS()
	defer upstream.Close()
	// A client without the test server's CA must refuse the certificate.
	code, body := get(t, &server{client: &http.Client{}, upstream: upstream.URL}, "/api/fetch")
	if code != http.StatusBadGateway || !strings.Contains(body["error"].(string), "certificate") {
		t.Fatalf("GET /api/fetch = %d %v", code, body)
	}
}

func TestFetchWithoutUpstream(t *testing.T) {
	code, _ := get(t, &server{}, "/api/fetch")
	if code != http.StatusServiceUnavailable {
		t.Fatalf("GET /api/fetch without UPSTREAM_URL = %d", code)
	}
}
