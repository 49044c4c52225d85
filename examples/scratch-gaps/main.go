// scratch-gaps checks three things programs often expect from their image:
// a temp directory, a name for the user it runs as, and the time zone database.
package main

import (
	"fmt"
	"os"
	"os/user"
	"strconv"
	"time"
)

func main() {
	failed := 0
	report := func(what, result string, err error) {
		if err != nil {
			failed++
			fmt.Printf("%-7s FAIL  %v\n", what, err)
			return
		}
		fmt.Printf("%-7s ok    %s\n", what, result)
	}

	if f, err := os.CreateTemp("", "gap-*"); err != nil {
		report("tmp", "", err)
	} else {
		report("tmp", "created "+f.Name(), nil)
		f.Close()
		os.Remove(f.Name())
	}

	if u, err := user.LookupId(strconv.Itoa(os.Getuid())); err != nil {
		report("user", "", err)
	} else {
		report("user", fmt.Sprintf("uid %s is %q, home %s", u.Uid, u.Username, u.HomeDir), nil)
	}

	if loc, err := time.LoadLocation("Asia/Seoul"); err != nil {
		report("tzdata", "", err)
	} else {
		at := time.Date(2025, 1, 1, 3, 0, 0, 0, time.UTC)
		report("tzdata", at.Format("15:04 MST")+" = "+at.In(loc).Format("15:04 MST"), nil)
	}

	if failed > 0 {
		os.Exit(1)
	}
}
