// https-server answers every request over TLS with one line, using the certificate in /tls.
package main

import (
	"fmt"
	"log"
	"net/http"
)

func main() {
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello over TLS (%s)\n", r.TLS.ServerName)
	})
	log.Println("listening on :8443")
	log.Fatal(http.ListenAndServeTLS(":8443", "/tls/server.crt", "/tls/server.key", nil))
}
