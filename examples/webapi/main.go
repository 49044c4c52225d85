// Command webapi is a small JSON API used to compare runtime images.
//
//	GET /healthz   liveness: {"status":"ok"}
//	GET /api/info  the Go version and the user the process runs as (needs /etc/passwd for a name)
//	GET /api/time  the current time in $APP_TIMEZONE (needs tzdata in the image)
//	GET /api/fetch calls $UPSTREAM_URL over HTTPS (needs CA certificates in the image)
//
// It listens on $PORT (default 8080); with $TLS_CERT_FILE and $TLS_KEY_FILE set it
// serves HTTPS instead, so the same binary can play the internal upstream API.
package main

import (
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"os/user"
	"runtime"
	"time"
)

// server holds what the handlers need; tests swap the client and the settings.
type server struct {
	client   *http.Client
	upstream string
	timezone string
}

func writeJSON(w http.ResponseWriter, status int, body any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(body)
}

func (s *server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

func (s *server) info(w http.ResponseWriter, r *http.Request) {
	// Without cgo, os/user reads /etc/passwd: an image without one has no user names.
	name := ""
	if u, err := user.Current(); err != nil {
		name = "(" + err.Error() + ")"
	} else {
		name = u.Username
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"service": "webapi",
		"go":      runtime.Version(),
		"uid":     os.Getuid(),
		"user":    name,
	})
}

func (s *server) clock(w http.ResponseWriter, r *http.Request) {
	loc, err := time.LoadLocation(s.timezone)
	if err != nil {
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
		return
	}
	// The offset, not the clock, is what differs between images; the clock is just now.
	_, offset := time.Now().In(loc).Zone()
	writeJSON(w, http.StatusOK, map[string]any{"timezone": loc.String(), "utc_offset": offset})
}

func (s *server) fetch(w http.ResponseWriter, r *http.Request) {
	if s.upstream == "" {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "UPSTREAM_URL is not set"})
		return
	}
	resp, err := s.client.Get(s.upstream)
	if err != nil {
		writeJSON(w, http.StatusBadGateway, map[string]string{"upstream": s.upstream, "error": err.Error()})
		return
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	var upstream any
	if json.Unmarshal(body, &upstream) != nil {
		upstream = string(body)
	}
	writeJSON(w, http.StatusOK, map[string]any{"upstream": s.upstream, "status": resp.StatusCode, "body": upstream})
}

func (s *server) routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", s.healthz)
	mux.HandleFunc("/api/info", s.info)
	mux.HandleFunc("/api/time", s.clock)
	mux.HandleFunc("/api/fetch", s.fetch)
	return mux
}

func getenv(key, fallback string) string {
	if value := os.Getenv(key); value != "" {
		return value
	}
	return fallback
}

func main() {
	s := &server{
		client:   &http.Client{Timeout: 5 * time.Second},
		upstream: os.Getenv("UPSTREAM_URL"),
		timezone: getenv("APP_TIMEZONE", "Asia/Seoul"),
	}
	srv := &http.Server{
		Addr:              ":" + getenv("PORT", "8080"),
		Handler:           s.routes(),
		ReadHeaderTimeout: 5 * time.Second,
	}
	cert, key := os.Getenv("TLS_CERT_FILE"), os.Getenv("TLS_KEY_FILE")
	var err error
	if cert != "" && key != "" {
		log.Printf("webapi: serving HTTPS on %s", srv.Addr)
		err = srv.ListenAndServeTLS(cert, key)
	} else {
		log.Printf("webapi: serving HTTP on %s", srv.Addr)
		err = srv.ListenAndServe()
	}
	fmt.Fprintln(os.Stderr, "webapi:", err)
	os.Exit(1)
}
