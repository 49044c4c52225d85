// A small net/http program that serves one JSON endpoint.
// With -probe it serves on a loopback port, calls itself once
// as an HTTP client, prints the reply and exits.
package main

import (
	"encoding/json"
	"flag"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"runtime"
)

func hello(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(map[string]string{
		"message": "hello, net/http!",
		"go":      runtime.Version(),
	})
}

func main() {
	addr := flag.String("addr", ":8080", "address to listen on")
	probe := flag.Bool("probe", false, "call a loopback server once and exit")
	flag.Parse()

	http.HandleFunc("/", hello)
	if !*probe {
		log.Fatal(http.ListenAndServe(*addr, nil))
	}

	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	go http.Serve(listener, nil)

	resp, err := http.Get("http://" + listener.Addr().String() + "/")
	if err != nil {
		log.Fatal(err)
	}
	defer resp.Body.Close()
	io.Copy(os.Stdout, resp.Body)
}
