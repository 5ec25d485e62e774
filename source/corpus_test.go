package source

import (
	"bufio"
	"bytes"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// corpusDir holds real public captures, relative to this package.
const corpusDir = "../../shared/corpus"

// capinfosCounts asks capinfos for the packet count of each file; it returns
// nil when capinfos is not installed or fails.
func capinfosCounts(t *testing.T, files []string) map[string]int {
	t.Helper()
	bin, err := exec.LookPath("capinfos")
	if err != nil {
		t.Log("capinfos is not installed: only checking that every capture yields packets")
		return nil
	}
	// -T -r: a table without header, -c: packet count, -M: exact numbers.
	out, err := exec.Command(bin, append([]string{"-T", "-r", "-c", "-M"}, files...)...).Output()
	if err != nil {
		t.Logf("capinfos failed (%v): only checking that every capture yields packets", err)
		return nil
	}
	counts := make(map[string]int)
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		name, count, ok := strings.Cut(sc.Text(), "\t")
		if !ok {
			continue
		}
		if n, err := strconv.Atoi(strings.TrimSpace(count)); err == nil {
			counts[name] = n
		}
	}
	return counts
}

func TestCorpus(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(corpusDir, "*.pcap*"))
	if len(files) == 0 {
		t.Skipf("no captures in %s (the shared corpus is not present in this checkout)", corpusDir)
	}
	want := capinfosCounts(t, files)
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			f, err := Open(path, nil)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			defer f.Close()
			var (
				p     Packet
				n     int
				links = map[LinkType]int{}
			)
			for range 1 << 20 {
				err = f.Next(&p)
				if err != nil {
					break
				}
				n++
				links[p.LinkType]++
				if p.Number != uint64(n) || len(p.Data) == 0 || p.OrigLen < len(p.Data) {
					t.Fatalf("bad packet %d: %+v", n, p)
				}
			}
			if err != io.EOF {
				t.Fatalf("after %d packets: %v", n, err)
			}
			if n == 0 {
				t.Fatal("no packets")
			}
			if want != nil {
				if w, ok := want[path]; !ok {
					t.Errorf("capinfos did not report on %s", path)
				} else if n != w {
					t.Errorf("read %d packets, capinfos counts %d", n, w)
				}
			}
			if st, err := os.Stat(path); err == nil && (f.Size() != st.Size() || f.Pos() != st.Size()) {
				t.Errorf("Size %d, Pos %d, want both %d", f.Size(), f.Pos(), st.Size())
			}
			t.Logf("%d packets, link types %v", n, links)
		})
	}
}

// TestCorpusAllocs checks that reading the real pcapng files stays
// allocation-free too (pcapgo allocates for packet options it parses).
func TestCorpusAllocs(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(corpusDir, "*.pcap*"))
	if len(files) == 0 {
		t.Skipf("no captures in %s (the shared corpus is not present in this checkout)", corpusDir)
	}
	for _, path := range files {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		f, err := OpenReader(path, bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		var p Packet
		// Warm up on the first packets, then measure the rest.
		for range 3 {
			if err := f.Next(&p); err != nil {
				t.Fatal(err)
			}
		}
		eof := false
		allocs := testing.AllocsPerRun(5, func() {
			if !eof && f.Next(&p) == io.EOF {
				eof = true
			}
		})
		f.Close()
		if allocs != 0 {
			t.Errorf("%s: %v allocations per Next", filepath.Base(path), allocs)
		}
	}
}
