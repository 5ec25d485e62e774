// Command attacks measures wsdissect on the hostile captures of
// internal/attackgen and prints the README's table: for each attack, the
// peak memory (maximum resident set size) of `wsdissect read --json` under
// the default budget and a small one, and the anomalies reported; then the
// peak memory of each output mode on one 100 MiB frame with the default
// flags.
//
//	go run ./tools/attacks -bin ./wsdissect [-before ./old-wsdissect] [-scale 16]
//
// bench/attacks.sh builds the binaries and runs it.
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/wsdissect/wsdissect/internal/attackgen"
)

func main() {
	bin := flag.String("bin", "", "the wsdissect binary to measure")
	before := flag.String("before", "", "an older wsdissect binary (without --memory) to compare with")
	scale := flag.Int("scale", 16, "attack size multiplier (1 is the test size)")
	small := flag.String("small", "64MiB", "the small --memory to compare with the default")
	only := flag.String("only", "", "comma-separated attack names to run (default all)")
	out := flag.String("out", "", "keep the captures in this directory (default a temporary one)")
	flag.Parse()
	if *bin == "" {
		fmt.Fprintln(os.Stderr, "attacks: -bin is required")
		os.Exit(2)
	}
	if err := run(*bin, *before, *small, *only, *out, *scale); err != nil {
		fmt.Fprintln(os.Stderr, "attacks:", err)
		os.Exit(1)
	}
}

func run(bin, before, small, only, dir string, scale int) error {
	if dir == "" {
		tmp, err := os.MkdirTemp("", "attacks")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		dir = tmp
	}
	fmt.Printf("Scale %d, %d cores; peak RSS of `wsdissect read --json` (output to /dev/null) and wall time.\n\n", scale, runtime.NumCPU())
	head := "| attack | capture | "
	if before != "" {
		head += "before | "
	}
	head += "--memory 1GiB (default) | --memory " + small + " | reported (with --memory " + small + ") |"
	fmt.Println(head)
	fmt.Println(strings.Repeat("|---", strings.Count(head, "|")-1) + "|")
	for _, a := range attackgen.All() {
		if only != "" && !slices.Contains(strings.Split(only, ","), a.Name) {
			continue
		}
		path := filepath.Join(dir, a.Name+".pcap")
		if err := write(a, path, scale); err != nil {
			return err
		}
		debug.FreeOSMemory()
		st, err := os.Stat(path)
		if err != nil {
			return err
		}
		row := fmt.Sprintf("| %s: %s | %.0f MB | ", a.Name, a.What(scale), float64(st.Size())/1e6)
		if before != "" {
			rss, d, err := measure(before, path, a.Flags, "--json")
			if err != nil {
				return err
			}
			row += fmt.Sprintf("%s (%.1fs) | ", mb(rss), d.Seconds())
		}
		for _, mem := range []string{"1GiB", small} {
			rss, d, err := measure(bin, path, a.Flags, "--json", "--memory", mem)
			if err != nil {
				return err
			}
			row += fmt.Sprintf("%s (%.1fs) | ", mb(rss), d.Seconds())
		}
		ids, err := anomalies(bin, path, a.Flags, "--memory", small)
		if err != nil {
			return err
		}
		row += ids + " |"
		fmt.Println(row)
	}
	if only == "" || slices.Contains(strings.Split(only, ","), "huge-frame") {
		return hugeFrame(bin, dir)
	}
	return nil
}

// hugeFrameScale makes the huge-frame attack one 100 MiB frame.
const hugeFrameScale = 25

// hugeFrame prints the peak RSS of every output mode, on one core and two,
// on one 100 MiB frame with the default flags: what --max-message (64 MiB)
// lets a single frame cost.
func hugeFrame(bin, dir string) error {
	var huge attackgen.Attack
	for _, a := range attackgen.All() {
		if a.Name == "huge-frame" {
			huge = a
		}
	}
	path := filepath.Join(dir, "huge-frame-100MiB.pcap")
	if err := write(huge, path, hugeFrameScale); err != nil {
		return err
	}
	defer os.Remove(path)
	debug.FreeOSMemory()
	modes := []struct{ name, flag string }{
		{"summary", ""}, {"`-q`", "-q"}, {"`--json`", "--json"}, {"`-x`", "-x"}, {"`-V`", "-V"},
	}
	fmt.Printf("\nhuge-frame at scale %d (%s) with the default flags (`--max-message 64MiB`, `--memory 1GiB`): peak RSS and wall time by output mode.\n\n", hugeFrameScale, huge.What(hugeFrameScale))
	head := "| GOMAXPROCS |"
	for _, m := range modes {
		head += " " + m.name + " |"
	}
	fmt.Println(head)
	fmt.Println(strings.Repeat("|---", len(modes)+1) + "|")
	for _, procs := range []string{"1", "2"} {
		row := "| " + procs + " |"
		for _, m := range modes {
			var flags []string
			if m.flag != "" {
				flags = append(flags, m.flag)
			}
			rss, d, err := measureEnv([]string{"GOMAXPROCS=" + procs}, bin, path, nil, flags...)
			if err != nil {
				return err
			}
			row += fmt.Sprintf(" %s (%.1fs) |", mb(rss), d.Seconds())
		}
		fmt.Println(row)
	}
	return nil
}

// write writes the attack's capture to path.
func write(a attackgen.Attack, path string, scale int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	if err := a.Write(w, scale); err != nil {
		f.Close()
		return err
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// measure runs bin read path with flags under /usr/bin/time, output
// discarded, and returns its peak RSS in bytes and its wall time.
func measure(bin, path string, attackFlags []string, flags ...string) (int64, time.Duration, error) {
	return measureEnv(nil, bin, path, attackFlags, flags...)
}

// measureEnv is measure with variables added to the environment.
func measureEnv(env []string, bin, path string, attackFlags []string, flags ...string) (int64, time.Duration, error) {
	// The child's own rusage would include this process's memory (Go
	// starts children with vfork), so GNU time measures it.
	args := append(append([]string{"-f", "%M", bin, "read", path}, attackFlags...), flags...)
	cmd := exec.Command("/usr/bin/time", args...)
	cmd.Env = append(os.Environ(), env...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return 0, 0, fmt.Errorf("%v: %w: %s", args, err, stderr.String())
	}
	d := time.Since(start)
	lines := strings.Fields(stderr.String())
	if len(lines) == 0 {
		return 0, d, fmt.Errorf("%v: no peak RSS reported", args)
	}
	kb, err := strconv.ParseInt(lines[len(lines)-1], 10, 64)
	if err != nil {
		return 0, d, fmt.Errorf("%v: peak RSS %q: %w", args, lines[len(lines)-1], err)
	}
	return kb << 10, d, nil
}

// anomalies runs bin read -q and returns the anomaly ids it counted, with
// their counts.
func anomalies(bin, path string, attackFlags []string, flags ...string) (string, error) {
	args := append(append([]string{"read", path, "-q"}, attackFlags...), flags...)
	out, err := exec.Command(bin, args...).Output()
	if err != nil {
		return "", fmt.Errorf("%s %v: %w", bin, args, err)
	}
	var ids []string
	in := false
	for line := range strings.Lines(string(out)) {
		f := strings.Fields(line)
		switch {
		case len(f) > 0 && f[0] == "Anomalies:":
			in = true
		case in && len(f) == 3:
			ids = append(ids, fmt.Sprintf("`%s` %s", f[1], f[2]))
		}
	}
	slices.Sort(ids)
	if len(ids) == 0 {
		return "none", nil
	}
	return strings.Join(ids, ", "), nil
}

// mb formats bytes as MB.
func mb(n int64) string { return fmt.Sprintf("%.0f MB", float64(n)/1e6) }
