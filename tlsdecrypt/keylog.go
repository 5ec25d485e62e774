package tlsdecrypt

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// Secrets are the logged secrets of one TLS connection, keyed by its client
// random. A nil slice means the label was not logged.
type Secrets struct {
	// Master is the TLS 1.2 (and earlier) master secret (CLIENT_RANDOM).
	Master []byte
	// ClientEarly is CLIENT_EARLY_TRAFFIC_SECRET (TLS 1.3 0-RTT).
	ClientEarly []byte
	// ClientHandshake and ServerHandshake are the TLS 1.3 handshake traffic
	// secrets.
	ClientHandshake, ServerHandshake []byte
	// ClientTraffic0 and ServerTraffic0 are the first TLS 1.3 application
	// traffic secrets.
	ClientTraffic0, ServerTraffic0 []byte
	// Exporter and EarlyExporter are logged by some stacks; they are kept but
	// not needed for decryption.
	Exporter, EarlyExporter []byte
}

// nssLabel is an NSS key log label this package knows and the field of
// Secrets it sets.
type nssLabel struct {
	name  string
	field func(*Secrets) *[]byte
}

// nssLabels are the labels, in the order TLS stacks log them (AppendNSS
// writes them so).
var nssLabels = [...]nssLabel{
	{"CLIENT_RANDOM", func(s *Secrets) *[]byte { return &s.Master }},
	{"CLIENT_EARLY_TRAFFIC_SECRET", func(s *Secrets) *[]byte { return &s.ClientEarly }},
	{"EARLY_EXPORTER_SECRET", func(s *Secrets) *[]byte { return &s.EarlyExporter }},
	{"CLIENT_HANDSHAKE_TRAFFIC_SECRET", func(s *Secrets) *[]byte { return &s.ClientHandshake }},
	{"SERVER_HANDSHAKE_TRAFFIC_SECRET", func(s *Secrets) *[]byte { return &s.ServerHandshake }},
	{"CLIENT_TRAFFIC_SECRET_0", func(s *Secrets) *[]byte { return &s.ClientTraffic0 }},
	{"SERVER_TRAFFIC_SECRET_0", func(s *Secrets) *[]byte { return &s.ServerTraffic0 }},
	{"EXPORTER_SECRET", func(s *Secrets) *[]byte { return &s.Exporter }},
}

// labels maps each label's name to its field of Secrets.
var labels = func() map[string]func(*Secrets) *[]byte {
	m := make(map[string]func(*Secrets) *[]byte, len(nssLabels))
	for _, l := range nssLabels {
		m[l.name] = l.field
	}
	return m
}()

// KeyLog holds the secrets of an NSS key log (the SSLKEYLOGFILE format),
// merged from any number of sources. It is safe for concurrent use: secrets
// may be added (a pcapng Decryption Secrets Block met while reading) while
// other goroutines look secrets up. The Secrets a Lookup returns are never
// changed afterwards; a later line for the same client random replaces them
// with a new copy.
type KeyLog struct {
	smu sync.RWMutex
	m   map[[32]byte]*Secrets // guarded by smu; the values are immutable

	mu  sync.Mutex
	res map[string][]byte // guarded by mu: TLS 1.2 session id or ticket -> master secret

	// The files read again as they grow (Follow), guarded by fmu; next is
	// the earliest time Refresh reads them again, every the least time
	// between two readings.
	fmu       sync.Mutex
	followed  []*followedFile
	next      time.Time
	every     time.Duration
	following atomic.Bool

	learned int // entries learnMaster added, guarded by smu
}

// maxLearned bounds the master secrets of resumed sessions a key log
// learns (learnMaster).
const maxLearned = 1 << 16

// followedFile is a key log file Refresh reads again as it grows.
type followedFile struct {
	path string
	off  int64 // bytes parsed: up to the end of the last complete line
	// seen is the file as the last successful reading found it, atEnd
	// whether that reading reached its end (unparsed tail included): the
	// file is not read again while it is unchanged. head is its first
	// bytes, which tell a file replaced in place (same inode) from one
	// that grew.
	seen  os.FileInfo
	atEnd bool
	head  []byte
	buf   []byte
}

// maxLine bounds a key log line: a longer one is skipped (TLS secrets
// lines are about 200 bytes).
const maxLine = 64 << 10

// headLen is how many of a followed file's first bytes are remembered.
const headLen = 64

// refreshEvery is the least time between two readings of the followed
// files.
const refreshEvery = 5 * time.Millisecond

// maxRefresh bounds the bytes one reading of a followed file takes.
const maxRefresh = 16 << 20

// Follow reads the NSS key log file at path into k now and again whenever
// a session lacks secrets and the file grew since (Refresh), as a browser
// or server appends to its SSLKEYLOGFILE while a live capture runs. Only
// complete lines are read; malformed ones are skipped. The file need not
// exist yet. It returns an error when the file exists but cannot be read.
func (k *KeyLog) Follow(path string) error {
	k.fmu.Lock()
	f := &followedFile{path: path}
	k.followed = append(k.followed, f)
	k.every = refreshEvery
	err := f.read(k)
	k.fmu.Unlock()
	k.following.Store(true)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("key log: %w", err)
	}
	return nil
}

// Following reports whether k follows files (Follow): sessions then wait
// for secrets that are not there yet instead of giving up.
func (k *KeyLog) Following() bool { return k != nil && k.following.Load() }

// Refresh reads what was appended to the followed files since they were
// last read, unless that was a moment ago or another goroutine is reading
// them. It is safe for concurrent use.
func (k *KeyLog) Refresh() { k.refresh(false) }

// refresh is Refresh; with force it reads the files whenever they changed.
func (k *KeyLog) refresh(force bool) {
	if !k.Following() {
		return
	}
	if force {
		k.fmu.Lock()
	} else if !k.fmu.TryLock() {
		return
	}
	defer k.fmu.Unlock()
	now := time.Now()
	if !force && now.Before(k.next) {
		return
	}
	k.next = now.Add(k.every)
	for _, f := range k.followed {
		_ = f.read(k) // (a file that went away may come back)
	}
}

// read parses the complete lines appended to f since its last reading.
func (f *followedFile) read(k *KeyLog) error {
	st, err := os.Stat(f.path)
	if err != nil {
		return err
	}
	if f.atEnd && os.SameFile(st, f.seen) && st.Size() == f.seen.Size() && st.ModTime().Equal(f.seen.ModTime()) {
		return nil // unchanged since it was read to its end
	}
	fh, err := os.Open(f.path)
	if err != nil {
		return err
	}
	defer fh.Close()
	if f.off > 0 && (!os.SameFile(st, f.seen) || st.Size() < f.off || !f.sameHead(fh)) {
		f.off = 0 // replaced or truncated: read it again
	}
	want := min(st.Size()-f.off, maxRefresh)
	if cap(f.buf) < int(want) {
		f.buf = make([]byte, want)
	}
	b := f.buf[:want]
	n, err := fh.ReadAt(b, f.off)
	if err != nil && !errors.Is(err, io.EOF) {
		return err
	}
	b = b[:n]
	if f.off == 0 {
		f.head = append(f.head[:0], b[:min(n, headLen)]...)
	}
	end := bytes.LastIndexByte(b, '\n') + 1
	if n-end > maxLine {
		end = n // the start of a line longer than any: skipped
	}
	for line := range bytes.Lines(b[:end]) {
		_ = k.addLine(line) // a malformed line is skipped
	}
	f.off += int64(end)
	f.seen, f.atEnd = st, f.off+int64(n-end) >= st.Size()
	if cap(f.buf) > maxLine {
		f.buf = nil // kept small between readings
	}
	return nil
}

// sameHead reports whether fh starts with the bytes f started with when
// it was first read.
func (f *followedFile) sameHead(fh *os.File) bool {
	b := make([]byte, len(f.head))
	n, _ := fh.ReadAt(b, 0)
	return bytes.Equal(b[:n], f.head)
}

// learnMaster records master as the TLS 1.2 master secret of the
// connection with clientRandom, unless the key log has one: the secret of a
// resumed session, which key logs may not repeat under the new client
// random.
func (k *KeyLog) learnMaster(clientRandom [32]byte, master []byte) {
	if k == nil {
		return
	}
	k.smu.Lock()
	defer k.smu.Unlock()
	if k.learned >= maxLearned {
		return // bounded in a long live capture
	}
	k.learned++
	var s Secrets
	if old := k.m[clientRandom]; old != nil {
		if old.Master != nil {
			return
		}
		s = *old
	}
	s.Master = master
	if k.m == nil {
		k.m = map[[32]byte]*Secrets{}
	}
	k.m[clientRandom] = &s
}

// NewKeyLog returns an empty key log.
func NewKeyLog() *KeyLog {
	return &KeyLog{m: map[[32]byte]*Secrets{}}
}

// Len returns how many client randoms have secrets.
func (k *KeyLog) Len() int {
	if k == nil {
		return 0
	}
	k.smu.RLock()
	defer k.smu.RUnlock()
	return len(k.m)
}

// Lookup returns the secrets logged for a client random.
func (k *KeyLog) Lookup(clientRandom [32]byte) (*Secrets, bool) {
	if k == nil {
		return nil, false
	}
	k.smu.RLock()
	defer k.smu.RUnlock()
	s, ok := k.m[clientRandom]
	return s, ok
}

// AppendNSS appends the key log lines of the secrets logged for
// clientRandom, in the NSS format Add reads, and returns b unchanged when
// there are none.
func (k *KeyLog) AppendNSS(b []byte, clientRandom [32]byte) []byte {
	s, ok := k.Lookup(clientRandom)
	if !ok {
		return b
	}
	return appendNSS(b, clientRandom, s)
}

// appendNSS appends the key log lines of secrets s of clientRandom.
func appendNSS(b []byte, clientRandom [32]byte, s *Secrets) []byte {
	for _, l := range nssLabels {
		v := *l.field(s)
		if v == nil {
			continue
		}
		b = append(b, l.name...)
		b = append(b, ' ')
		b = hex.AppendEncode(b, clientRandom[:])
		b = append(b, ' ')
		b = hex.AppendEncode(b, v)
		b = append(b, '\n')
	}
	return b
}

// AddFile reads an NSS key log file into k.
func (k *KeyLog) AddFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("key log: %w", err)
	}
	defer f.Close()
	return k.Add(f, path)
}

// AddBytes parses key log text (for example a pcapng Decryption Secrets
// Block's secrets) into k; name identifies the source in errors.
func (k *KeyLog) AddBytes(b []byte, name string) error {
	return k.Add(bytes.NewReader(b), name)
}

// Add parses NSS key log lines from r into k; name identifies the source in
// errors. Blank lines, comments (#) and unknown labels are ignored; a line
// with a known label but malformed fields is an error naming its line number
// (lines before it are kept).
func (k *KeyLog) Add(r io.Reader, name string) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		if err := k.addLine(sc.Bytes()); err != nil {
			return fmt.Errorf("key log %s: line %d: %w", name, line, err)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("key log %s: line %d: %w", name, line+1, err)
	}
	return nil
}

// addLine parses one key log line and stores its secret.
func (k *KeyLog) addLine(l []byte) error {
	l = bytes.TrimSpace(l)
	if len(l) == 0 || l[0] == '#' {
		return nil
	}
	f := bytes.Fields(l)
	field, ok := labels[string(f[0])]
	if !ok {
		return nil // RSA, unknown or future labels
	}
	if len(f) != 3 {
		return fmt.Errorf("%s needs 2 fields, got %d", f[0], len(f)-1)
	}
	var cr [32]byte
	if len(f[1]) != 64 {
		return fmt.Errorf("%s: client random must be 64 hex digits, got %d", f[0], len(f[1]))
	}
	if _, err := hex.Decode(cr[:], f[1]); err != nil {
		return fmt.Errorf("%s: client random: %w", f[0], err)
	}
	sec := make([]byte, hex.DecodedLen(len(f[2])))
	if _, err := hex.Decode(sec, f[2]); err != nil || len(f[2])%2 != 0 {
		return fmt.Errorf("%s: secret is not hex", f[0])
	}
	if string(f[0]) == "CLIENT_RANDOM" {
		if len(sec) != 48 {
			return fmt.Errorf("CLIENT_RANDOM: master secret must be 48 bytes, got %d", len(sec))
		}
	} else if len(sec) != 32 && len(sec) != 48 {
		return fmt.Errorf("%s: secret must be 32 or 48 bytes, got %d", f[0], len(sec))
	}
	k.smu.Lock()
	defer k.smu.Unlock()
	if k.m == nil {
		k.m = map[[32]byte]*Secrets{}
	}
	// Copy on write: a session may hold the Secrets looked up before.
	var s Secrets
	if old := k.m[cr]; old != nil {
		s = *old
	}
	*field(&s) = sec
	k.m[cr] = &s
	return nil
}

// Remember records the master secret of a TLS 1.2 session under its
// session id or ticket, so a later abbreviated handshake resuming it can be
// decrypted. It is safe for concurrent use.
func (k *KeyLog) Remember(idOrTicket, master []byte) {
	if k == nil || len(idOrTicket) == 0 || len(master) == 0 {
		return
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.res == nil {
		k.res = map[string][]byte{}
	}
	if len(k.res) >= 1<<16 {
		clear(k.res) // bounded: forget old sessions
	}
	k.res[string(idOrTicket)] = master
}

// Resumed returns the master secret remembered for a session id or ticket.
func (k *KeyLog) Resumed(idOrTicket []byte) []byte {
	if k == nil || len(idOrTicket) == 0 {
		return nil
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.res[string(idOrTicket)]
}
