// SPDX-License-Identifier: Apache-2.0

// runc_go_bench: the peer for bench/run. runc's own cgroup v1 memory code
// (Debian's golang-github-opencontainers-runc-dev, runc 1.1.5's
// libcontainer/cgroups/fs) doing what kmemguard's bench_kmemguard --ops and
// kmemguard_floor do, with the same resources (bench/floor.h):
//
//	runc_go_bench OP DIR ITERATIONS
//	  apply_set_remove: MemoryGroup.Apply(DIR, -1), Set, cgroups.RemovePath
//	  set:              MemoryGroup.Set on the existing DIR
//	  getstats:         MemoryGroup.GetStats of DIR
//
// Our code calling runc's package API; built by bench/run in GOPATH mode
// (GO111MODULE=off, GOPROXY=off: nothing is fetched).
package main

import (
	"fmt"
	"os"
	"strconv"

	"github.com/opencontainers/runc/libcontainer/cgroups"
	"github.com/opencontainers/runc/libcontainer/cgroups/fs"
	"github.com/opencontainers/runc/libcontainer/configs"
)

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintf(os.Stderr, "usage: %s apply_set_remove|set|getstats DIR ITERATIONS\n", os.Args[0])
		os.Exit(2)
	}
	op, dir := os.Args[1], os.Args[2]
	n, err := strconv.Atoi(os.Args[3])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	// bench/floor.h: FLOOR_LIMIT, FLOOR_MEMSW, FLOOR_RESERVATION.
	r := &configs.Resources{
		Memory:            256 << 20,
		MemorySwap:        256 << 20,
		MemoryReservation: 128 << 20,
	}
	m := &fs.MemoryGroup{}
	for i := 0; i < n; i++ {
		switch op {
		case "apply_set_remove":
			err = m.Apply(dir, r, -1)
			if err == nil {
				err = m.Set(dir, r)
			}
			if rerr := cgroups.RemovePath(dir); err == nil {
				err = rerr
			}
		case "set":
			err = m.Set(dir, r)
		case "getstats":
			err = m.GetStats(dir, cgroups.NewStats())
		default:
			fmt.Fprintf(os.Stderr, "unknown op %s\n", op)
			os.Exit(2)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "%s %s: %v\n", op, dir, err)
			os.Exit(1)
		}
	}
}
